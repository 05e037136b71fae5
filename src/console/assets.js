// Assets: each asset's timeline of past, active and planned intervals, and create / assign /
// close through the management requests (their answers arrive on the live feed).
import { api, live } from './api.js';
import { errorBox, field, fill, h, time } from './dom.js';

const DAY = 86400;

function phase(iv, now) {
  if (iv.begin > now) return 'planned';
  if (iv.end === 0 || iv.end > now) return 'active';
  return 'past';
}

function timeline(intervals, now) {
  const from = Math.min(now - DAY, ...intervals.map((i) => i.begin));
  const to = Math.max(now + DAY, ...intervals.map((i) => (i.end === 0 ? now : i.end)), ...intervals.map((i) => i.begin + 3600));
  return h('div', { class: 'timeline', role: 'img', 'aria-label': `timeline from ${time(from)} to ${time(to)}: ${intervals.length} interval(s)` },
    intervals.map((iv) => {
      const p = phase(iv, now);
      return h('div', { class: `iv ${p}`, 'data-phase': p, 'data-id': iv.id, title: `${p}: ${iv.ident} ${time(iv.begin)} – ${iv.end ? time(iv.end) : 'open'}` }, `${p} ${iv.ident}`);
    }),
    h('div', { class: 'now', title: 'now' }), h('span', { class: 'axis' }, time(from)));
}

/** Positions are set through the CSSOM (the page's CSP allows no inline style attributes). */
function place(el, intervals, now) {
  const from = Math.min(now - DAY, ...intervals.map((i) => i.begin));
  const to = Math.max(now + DAY, ...intervals.map((i) => (i.end === 0 ? now : i.end)), ...intervals.map((i) => i.begin + 3600));
  const pct = (t) => `${(((t - from) / (to - from)) * 100).toFixed(3)}%`;
  el.querySelectorAll('.iv').forEach((d, k) => {
    const iv = intervals[k];
    const end = iv.end === 0 ? Math.max(now, iv.begin) + (to - from) * 0.02 : iv.end;
    d.style.left = pct(iv.begin);
    d.style.width = `calc(${pct(end)} - ${pct(iv.begin)})`;
  });
  el.querySelector('.now').style.left = pct(now);
}

function localInput(name) {
  return h('input', { name, type: 'datetime-local' });
}

function unix(input) {
  return input.value ? Math.floor(new Date(input.value).getTime() / 1000) : undefined;
}

export function assetsPage(main, { channels }) {
  const list = h('div');
  const view = h('div', { class: 'panel' }, h('p', { class: 'notice' }, 'Select an asset.'));
  const result = h('div', { 'aria-live': 'polite' });
  const pending = new Map();
  let selected = null;
  const c = { id: h('input', { name: 'id', required: true, pattern: '[A-Za-z0-9_.\\-]{1,64}' }), name: h('input', { name: 'name', required: true }), type: h('input', { name: 'type', required: true, pattern: '[a-z][a-z0-9_]*', placeholder: 'driver' }) };
  const a = { channel: h('select', { name: 'channel_id' }, channels.map((x) => h('option', { value: String(x.id) }, String(x.id)))), ident: h('input', { name: 'ident', required: true }), begin: localInput('begin'), end: localInput('end'), meta: h('input', { name: 'meta', placeholder: '{"by": "yard"}' }) };
  fill(main, h('h2', {}, 'Assets'),
    h('div', { class: 'cols' }, h('div', {}, list, view),
      h('div', {},
        h('form', { class: 'panel', onsubmit: (e) => { e.preventDefault(); request({ op: 'create', asset: { id: c.id.value, name: c.name.value, type: c.type.value } }); } },
          h('h3', {}, 'Create an asset'), h('div', { class: 'bar' }, field('Id', c.id), field('Name', c.name), field('Type', c.type)), h('button', { type: 'submit' }, 'Create')),
        h('form', { class: 'panel', onsubmit: assign },
          h('h3', {}, 'Assign the selected asset'), h('div', { class: 'bar' }, field('Channel', a.channel), field('Device ident', a.ident), field('Begin (empty: now)', a.begin), field('End (empty: open)', a.end), field('meta (JSON)', a.meta)),
          h('button', { type: 'submit' }, 'Assign')),
        h('form', { class: 'panel', onsubmit: (e) => { e.preventDefault(); if (selected) request({ op: 'close', id: selected }); } },
          h('h3', {}, 'Close the selected asset\'s active interval'), h('button', { type: 'submit' }, 'Close now')),
        result)));

  function assign(e) {
    e.preventDefault();
    if (!selected) return void fill(result, errorBox('Not assigned', new Error('select an asset first')));
    const r = { op: 'assign', id: selected, channel_id: /^\d+$/.test(a.channel.value) ? Number(a.channel.value) : a.channel.value, ident: a.ident.value.trim() };
    if (unix(a.begin) !== undefined) r.begin = unix(a.begin);
    if (unix(a.end) !== undefined) r.end = unix(a.end);
    if (a.meta.value.trim()) {
      try {
        r.meta = JSON.parse(a.meta.value);
      } catch (err) {
        return void fill(result, errorBox('meta is not JSON', err));
      }
    }
    request(r);
  }

  async function request(body) {
    fill(result, h('p', { class: 'notice' }, `${body.op}…`));
    try {
      const r = await api('/api/v1/assets/requests', { method: 'POST', body });
      pending.set(r.request_id, body.op);
    } catch (err) {
      fill(result, errorBox(`${body.op} failed`, err));
    }
  }

  async function loadList() {
    try {
      const r = await api('/api/v1/assets');
      fill(list, r.items.length === 0 ? h('p', { class: 'notice' }, 'No asset yet: create one.') : h('ul', { 'aria-label': 'assets' }, r.items.map((x) => h('li', {},
        h('button', { type: 'button', 'aria-pressed': String(x.id === selected), onclick: () => select(x.id) }, `${x.id} · ${x.name} (${x.type})`), x.declared ? ' (config file)' : null))));
    } catch (e) {
      fill(list, errorBox('Assets could not be read', e), h('button', { type: 'button', onclick: loadList }, 'Retry'));
    }
  }

  async function select(id) {
    selected = id;
    loadList();
    try {
      const r = await api(`/api/v1/assets/${encodeURIComponent(id)}?limit=1000`);
      const now = Date.now() / 1000;
      const tl = timeline(r.intervals, now);
      fill(view, h('h3', {}, `${r.asset.name} (${r.asset.id}, ${r.asset.type})`), tl,
        r.intervals.length === 0 ? h('p', { class: 'notice' }, 'No interval yet.') : h('table', { 'aria-label': 'intervals' },
          h('thead', {}, h('tr', {}, ['', 'Device', 'Begin', 'End', 'Source', 'meta'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, r.intervals.map((iv) => h('tr', { 'data-phase': phase(iv, now) }, h('td', {}, phase(iv, now)), h('td', {}, `${iv.channel_id}/${iv.ident}`), h('td', {}, time(iv.begin)), h('td', {}, iv.end ? time(iv.end) : 'open'), h('td', {}, iv.source), h('td', { class: 'mono' }, iv.meta ? JSON.stringify(iv.meta) : ''))))));
      place(tl, r.intervals, now);
    } catch (e) {
      fill(view, errorBox(`Asset ${id} could not be read`, e));
    }
  }

  const stopLive = live({ types: 'asset' }, (_t, ev) => {
    const p = ev.payload;
    if (ev.sub?.startsWith('requests/') && pending.has(p.request_id)) {
      pending.delete(p.request_id);
      if (ev.sub === 'requests/applied') fill(result, h('p', { class: 'ok', role: 'status' }, `${p.op} ${p.id}: applied`));
      else fill(result, errorBox(`${p.op} ${p.id} rejected`, new Error(`${p.reason} (${p.code})`)));
      if (p.op === 'create' && ev.sub === 'requests/applied') selected = p.id;
    }
    loadList();
    if (selected) select(selected);
  });
  loadList();
  return () => stopLive();
}
