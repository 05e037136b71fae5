/** Markdown tables and number formatting for the printed summary and bench/results/latest.md. */
export type Cell = string | number | null | undefined;

export function fmt(v: Cell, digits = 1): string {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '–';
  if (typeof v === 'string') return v;
  const abs = Math.abs(v);
  const d = abs >= 1000 ? 0 : abs >= 100 ? Math.min(digits, 1) : abs >= 1 ? digits : Math.max(digits, 3);
  return v.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: d });
}

export function mdTable(headers: string[], rows: Cell[][], digits = 1): string {
  const cells = rows.map((r) => r.map((c) => fmt(c, digits).replace(/\|/g, '\\|')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const line = (r: string[]) => `| ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (numeric[i] ? '-'.repeat(Math.max(w - 1, 1)) + ':' : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), sep, ...cells.map(line)].join('\n');
}
