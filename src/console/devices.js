// Devices: per channel, who is online, when each device last sent, where it is (a track from the
// live feed), the channel's counters and the close codes of recent disconnects.
import { api, live } from './api.js';
import { ago, channelSelect, errorBox, field, fill, h, time } from './dom.js';
import { trackSvg } from './track.js';

export function devicesPage(main, { channels }) {
  if (channels.length === 0) return void fill(main, h('p', {}, 'This server runs no channel.'));
  const rows = new Map();
  const tracks = new Map();
  let selected = null;
  let stopLive = null;
  let dirty = false;
  const tileInput = h('input', { name: 'tiles', type: 'url', size: 40, placeholder: 'https://tiles.example/{z}/{x}/{y}.png', value: localStorage.getItem('edge-console-tiles') ?? '' });
  tileInput.addEventListener('change', () => { localStorage.setItem('edge-console-tiles', tileInput.value.trim()); dirty = true; });
  const sel = channelSelect(channels, () => load());
  const status = h('span', { class: 'notice', 'aria-live': 'polite' });
  const counters = h('div');
  const table = h('div');
  const detail = h('div', { class: 'panel' }, h('p', { class: 'notice' }, 'Select a device to see its last message and track.'));
  const closes = h('div');
  fill(main,
    h('h2', {}, 'Devices'),
    h('form', { class: 'bar', onsubmit: (e) => e.preventDefault() }, field('Channel', sel), field('Map tiles (optional URL template)', tileInput), status),
    h('div', { class: 'cols' }, h('div', {}, table, h('h3', {}, 'Recent disconnects'), closes), h('div', {}, detail, h('h3', {}, 'Channel counters'), counters)));

  function render() {
    dirty = false;
    const list = [...rows.values()].sort((a, b) => (b.connected - a.connected) || ((b.at ?? 0) - (a.at ?? 0)));
    if (list.length === 0) return void fill(table, h('p', { class: 'notice' }, 'No device has connected to this channel since the server started.'));
    fill(table, h('table', { 'aria-label': 'devices' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Ident'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Last message'), h('th', { scope: 'col' }, 'Position'))),
      h('tbody', {}, list.map((d) => h('tr', { 'data-ident': d.ident, class: d.ident === selected ? 'selected' : null },
        h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => select(d.ident), 'aria-label': `show device ${d.ident}` }, d.ident)),
        h('td', {}, h('span', { class: `badge ${d.connected ? 'online' : 'offline'}`, title: d.connected && d.instance ? `connected to ${d.instance}` : null }, d.connected ? 'online' : 'offline')),
        h('td', { title: time(d.at) }, d.at ? `${time(d.at)} (${ago(d.at)})` : '—'),
        h('td', { class: 'mono' }, d.position ? `${d.position.latitude.toFixed(5)}, ${d.position.longitude.toFixed(5)}` : '—'))))));
    if (selected) renderDetail();
  }

  function renderDetail() {
    const d = rows.get(selected);
    if (!d) return;
    const pts = tracks.get(selected) ?? [];
    fill(detail, h('h3', {}, `Device ${d.ident}`),
      h('dl', { class: 'kv' }, h('dt', {}, 'Status'), h('dd', {}, d.connected ? 'online' : 'offline'),
        // which process or instance holds its connection (several of them share the channel)
        ...(d.connected && d.instance ? [h('dt', {}, 'Connected to'), h('dd', { class: 'mono instance' }, d.instance)] : []),
        h('dt', {}, 'Last message'), h('dd', { class: 'last-at' }, time(d.at))),
      trackSvg(pts, tileInput.value.trim()),
      h('h3', {}, 'Last message'), h('pre', { class: 'last-message' }, d.message ? JSON.stringify(d.message, null, 1) : 'none since the server started'));
  }

  function select(ident) {
    selected = ident;
    render();
  }

  function remember(ident, m) {
    const lat = m['position.latitude'];
    const lon = m['position.longitude'];
    if (typeof lat !== 'number' || typeof lon !== 'number') return;
    const t = tracks.get(ident) ?? [];
    const last = t[t.length - 1];
    if (!last || last.lat !== lat || last.lon !== lon) t.push({ lat, lon });
    if (t.length > 1000) t.shift();
    tracks.set(ident, t);
  }

  async function loadCounters() {
    try {
      const c = (await api('/api/v1/channels')).items.find((x) => String(x.id) === sel.value);
      fill(counters, c ? h('dl', { class: 'kv' }, h('dt', {}, 'connections'), h('dd', {}, c.connections), Object.entries(c.counters ?? {}).filter(([, v]) => typeof v === 'number' && v !== 0).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : 'no such channel');
    } catch (e) {
      fill(counters, errorBox('Counters could not be read', e));
    }
  }

  async function load() {
    stopLive?.();
    rows.clear();
    tracks.clear();
    selected = null;
    fill(table, h('p', { class: 'notice' }, 'Loading…'));
    try {
      const r = await api(`/api/v1/channels/${encodeURIComponent(sel.value)}/devices`);
      for (const d of r.items) {
        rows.set(d.ident, { ident: d.ident, connected: d.connected, instance: d.connected_instance ?? null, at: d.latest_message_at, position: d.position, message: d.latest_message });
        if (d.latest_message) remember(d.ident, d.latest_message);
      }
      fill(closes, r.recent_closes.length === 0 ? h('p', { class: 'notice' }, 'None since the server started.') : h('table', { 'aria-label': 'recent disconnects' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Ident'), h('th', { scope: 'col' }, 'Close code'), h('th', { scope: 'col' }, 'Reason'))),
        h('tbody', {}, r.recent_closes.map((c) => h('tr', {}, h('td', {}, time(c.timestamp)), h('td', {}, c.ident), h('td', {}, c.close_code), h('td', {}, c.reason))))));
      render();
    } catch (e) {
      fill(table, errorBox('Devices could not be read', e), h('button', { type: 'button', onclick: load }, 'Retry'));
      return;
    }
    loadCounters();
    stopLive = live({ channel: sel.value, types: 'message,connection' }, (type, ev) => {
      const p = ev.payload;
      if (type === 'message') {
        const d = rows.get(ev.ident) ?? { ident: ev.ident, connected: true };
        d.at = p['server.timestamp'];
        d.message = p;
        if (typeof p['position.latitude'] === 'number') d.position = { latitude: p['position.latitude'], longitude: p['position.longitude'] };
        rows.set(ev.ident, d);
        remember(ev.ident, p);
      } else if (type === 'connection' && p.ident) {
        const d = rows.get(p.ident) ?? { ident: p.ident, at: null };
        if (ev.sub === 'identified') d.connected = true;
        if (ev.sub === 'closed') {
          d.connected = false;
          d.instance = null;
          loadCounters();
        }
        rows.set(p.ident, d);
      }
      dirty = true;
    }, (state, detail) => fill(status, state === 'open' ? 'live' : state === 'error' ? h('span', { class: 'error', role: 'alert' }, `live feed: ${detail}; retrying`) : ''));
  }
  // at most a few renders a second, whatever the message rate
  const timer = setInterval(() => dirty && render(), 300);
  const countersTimer = setInterval(loadCounters, 10_000);
  load();
  return () => {
    stopLive?.();
    clearInterval(timer);
    clearInterval(countersTimer);
  };
}
