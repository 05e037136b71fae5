// Small DOM helpers: elements from a tag, attributes and children; no HTML strings, so device data
// (idents, messages, file names) is always text, never markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** An error state: a role=alert box that says what failed and why. */
export function errorBox(what, e) {
  return h('div', { class: 'error', role: 'alert' }, `${what}: ${e.message ?? e}`);
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function time(s) {
  if (s === null || s === undefined || s === 0) return '—';
  const d = new Date(Number(s) * 1000);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function ago(s) {
  if (!s) return '—';
  const d = Date.now() / 1000 - Number(s);
  if (d < 60) return `${Math.max(0, Math.round(d))} s ago`;
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  return `${Math.round(d / 3600)} h ago`;
}

/** A labelled form control. */
export function field(label, control) {
  return h('label', {}, label, control);
}

/** A channel picker filled from /api/v1/channels; remembers the last choice. */
export function channelSelect(channels, onChange) {
  const saved = localStorage.getItem('edge-console-channel');
  const sel = h('select', { name: 'channel', onchange: () => { localStorage.setItem('edge-console-channel', sel.value); onChange?.(sel.value); } }, channels.map((c) => h('option', { value: String(c.id) }, `${c.id} (${c.protocol})`)));
  if (saved && channels.some((c) => String(c.id) === saved)) sel.value = saved;
  return sel;
}
