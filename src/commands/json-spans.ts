/**
 * Where each top-level member's value sits in the JSON text of an object, so `meta` can be stored
 * and echoed as the exact bytes the sender wrote. Re-serialising the parsed value would not do:
 * `1.0` becomes `1`, `"\u00e9"` becomes `"é"`, integer-like keys are reordered, spacing is lost.
 *
 * Only called on text that JSON.parse accepted as an object, so the scanner can assume valid JSON
 * and only needs to find value boundaries. Duplicate keys: the last one wins, as in JSON.parse.
 */
export function topLevelValueSpans(text: string): Map<string, [number, number]> {
  const spans = new Map<string, [number, number]>();
  let i = skipWs(text, 0);
  if (text[i] !== '{') return spans;
  i = skipWs(text, i + 1);
  if (text[i] === '}') return spans;
  for (;;) {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, keyEnd);
    i = skipWs(text, i + 1); // ':'
    const valueEnd = skipValue(text, i);
    spans.set(key, [i, valueEnd]);
    i = skipWs(text, valueEnd);
    if (text[i] !== ',') return spans;
    i = skipWs(text, i + 1);
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return i;
}

/** `s[i]` is the opening quote; returns the index after the closing one. */
function skipString(s: string, i: number): number {
  i++;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i++;
  }
  return i;
}

function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    while (i < s.length) {
      const d = s[i];
      if (d === '"') {
        i = skipString(s, i);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  // number, true, false, null
  while (i < s.length && !/[\s,}\]]/.test(s[i]!)) i++;
  return i;
}

/** Nesting depth of a parsed JSON value: a scalar is 0, `{}` is 1, `{"a":[1]}` is 2. */
export function jsonDepth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let max = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
    const d = jsonDepth(x);
    if (d > max) max = d;
  }
  return max + 1;
}
