// Messages: a live stream per device (like flespi's toolbox): each message's flat JSON, a text
// filter, pause; and the raw frames in hex when the channel's traffic capture is on.
import { api, live } from './api.js';
import { channelSelect, errorBox, field, fill, h, time } from './dom.js';

const KEEP = 300;

export function messagesPage(main, { channels }) {
  if (channels.length === 0) return void fill(main, h('p', {}, 'This server runs no channel.'));
  const sel = channelSelect(channels);
  const ident = h('input', { name: 'ident', placeholder: 'all devices', size: 20, value: sessionStorage.getItem('edge-console-ident') ?? '' });
  const filter = h('input', { name: 'filter', type: 'search', placeholder: 'e.g. position.speed', size: 24 });
  const paused = h('input', { type: 'checkbox', name: 'paused' });
  const status = h('span', { class: 'notice', 'aria-live': 'polite' });
  const list = h('ul', { class: 'stream', 'aria-label': 'messages, newest first' });
  const raw = h('div');
  const kept = [];
  let stopLive = null;
  fill(main, h('h2', {}, 'Messages'),
    h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); start(); } },
      field('Channel', sel), field('Device ident', ident), h('button', { type: 'submit', class: 'primary' }, 'Watch'),
      field('Filter (text in the message)', filter), h('label', { class: 'check' }, paused, 'Pause'), status),
    h('div', { class: 'cols' }, h('div', {}, list), h('div', {}, h('h3', {}, 'Raw frames (traffic capture)'), raw)));
  filter.addEventListener('input', () => redraw());

  function item(ev) {
    const p = ev.payload;
    const text = JSON.stringify(p, null, 1);
    const brief = ['position.speed', 'position.latitude', 'position.longitude', 'event.enum', 'command.id'].filter((k) => p[k] !== undefined).map((k) => `${k}=${p[k]}`).join(' ');
    return h('li', { 'data-text': JSON.stringify(p) }, h('details', {}, h('summary', {}, h('span', { class: 'mono' }, `${time(p['server.timestamp'])} ${ev.ident} `), brief), h('pre', {}, text)));
  }

  function matches(li) {
    const f = filter.value.trim();
    return !f || li.dataset.text.includes(f);
  }

  function redraw() {
    fill(list, kept.filter(matches));
    if (kept.length === 0) list.append(h('li', { class: 'notice' }, 'Waiting for messages…'));
  }

  async function loadRaw() {
    const id = ident.value.trim();
    if (!id) return void fill(raw, h('p', { class: 'notice' }, 'Name a device to see its raw frames.'));
    try {
      const c = await api(`/api/v1/devices/${encodeURIComponent(sel.value)}/${encodeURIComponent(id)}/capture?limit=50`);
      if (!c.enabled) return void fill(raw, h('p', { class: 'notice' }, 'Traffic capture is off for this channel (config channels[].capture, README "Traffic capture").'));
      fill(raw, c.rows.length === 0 ? h('p', { class: 'notice' }, 'Nothing captured for this device yet.') : h('ul', { class: 'stream' }, c.rows.reverse().map((r) => h('li', {}, h('span', { class: 'mono' }, `${r.time} ${r.direction}`), h('pre', {}, r.hex)))));
    } catch (e) {
      fill(raw, errorBox('The capture could not be read', e));
    }
  }

  function start() {
    stopLive?.();
    kept.length = 0;
    sessionStorage.setItem('edge-console-ident', ident.value.trim());
    redraw();
    loadRaw();
    stopLive = live({ channel: sel.value, ident: ident.value.trim(), types: 'message' }, (type, ev) => {
      if (paused.checked) return;
      const li = item(ev);
      kept.unshift(li);
      if (kept.length > KEEP) kept.pop();
      if (kept.length === 1) list.replaceChildren();
      if (matches(li)) list.prepend(li);
      while (list.childElementCount > KEEP) list.lastElementChild.remove();
    }, (state, detail) => fill(status, state === 'open' ? 'live' : state === 'error' ? h('span', { class: 'error', role: 'alert' }, `live feed: ${detail}; retrying`) : ''));
  }
  start();
  const rawTimer = setInterval(loadRaw, 5000);
  return () => {
    stopLive?.();
    clearInterval(rawTimer);
  };
}
