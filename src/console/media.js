// Media: stored files of a device (or all), photos inline, clips in a player that seeks (the
// content route answers Range requests), tachograph and other files to download, and each alarm
// with its files together. New files appear as their `stored` events arrive.
import { api, live, localLink } from './api.js';
import { channelSelect, errorBox, field, fill, h, time } from './dom.js';

function fileView(f) {
  const url = localLink(f.url);
  const head = h('div', { class: 'mono' }, `${f.name} · ${f.kind} · ${f.bytes} B · ${time(f.stored_at)}`);
  if (f.kind === 'image') return h('div', { class: 'card', 'data-id': f.id }, head, h('img', { src: url, alt: `photo ${f.name} of ${f.ident}`, loading: 'lazy' }));
  if (f.kind === 'video' && /\.(mp4|webm)$/i.test(f.name)) return h('div', { class: 'card', 'data-id': f.id }, head, h('video', { src: url, controls: true, preload: 'metadata', 'aria-label': `clip ${f.name} of ${f.ident}` }));
  return h('div', { class: 'card', 'data-id': f.id }, head, h('a', { href: url, download: f.name }, `Download ${f.kind === 'tacho' ? 'tachograph file' : 'file'}`));
}

export function mediaPage(main, { channels }) {
  const sel = channelSelect(channels);
  const ident = h('input', { name: 'ident', placeholder: 'all devices', size: 20, value: sessionStorage.getItem('edge-console-ident') ?? '' });
  const kind = h('select', { name: 'kind' }, ['', 'image', 'video', 'tacho', 'audio', 'file'].map((k) => h('option', { value: k }, k || 'any')));
  const out = h('div');
  const status = h('span', { class: 'notice', 'aria-live': 'polite' });
  let stopLive = null;
  let reloadTimer = null;
  fill(main, h('h2', {}, 'Media'),
    h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); load(); } }, field('Channel', sel), field('Device ident', ident), field('Kind', kind), h('button', { type: 'submit', class: 'primary' }, 'Show'), status), out);

  async function load() {
    const q = new URLSearchParams({ channel: sel.value, limit: '200' });
    if (ident.value.trim()) q.set('ident', ident.value.trim());
    if (kind.value) q.set('kind', kind.value);
    fill(out, h('p', { class: 'notice' }, 'Loading…'));
    let r;
    try {
      r = await api(`/api/v1/media?${q}`);
    } catch (e) {
      return void fill(out, errorBox('Files could not be listed', e), h('button', { type: 'button', onclick: load }, 'Retry'));
    }
    const alarms = new Map();
    const rest = [];
    for (const f of r.items) {
      const n = f.meta?.['alarm.number'];
      if (n) alarms.set(n, [...(alarms.get(n) ?? []), f]);
      else rest.push(f);
    }
    fill(out,
      r.total === 0 ? h('p', { class: 'notice' }, 'No stored file matches.') : h('p', { class: 'notice' }, `${r.total} file(s)${r.total > r.items.length ? `, the newest ${r.items.length} shown` : ''}.`),
      alarms.size ? h('h3', {}, 'Alarms') : null,
      [...alarms].map(([n, files]) => {
        const m = files[0].meta;
        const label = Object.entries(m).filter(([k]) => /alarm\.(source|type|label)/.test(k)).map(([k, v]) => `${k}=${v}`).join(' ');
        return h('section', { class: 'panel alarm', 'aria-label': `alarm ${n}` }, h('h3', {}, `Alarm ${n}`), h('p', { class: 'notice' }, `${files[0].ident} · ${label}`), h('div', { class: 'cards' }, files.map(fileView)));
      }),
      rest.length ? h('h3', {}, 'Files') : null, h('div', { class: 'cards' }, rest.map(fileView)));
  }

  stopLive = live({ channel: sel.value, types: 'media' }, () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(load, 500);
  }, (state, detail) => fill(status, state === 'open' ? 'live' : state === 'error' ? h('span', { class: 'error', role: 'alert' }, `live feed: ${detail}; retrying`) : ''));
  load();
  return () => {
    stopLive?.();
    clearTimeout(reloadTimer);
  };
}
