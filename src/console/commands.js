// Commands: pick a device and one of its protocol's commands, fill the form made from the
// command's property schema, add `meta`, send; the lifecycle events arrive on the live feed; the
// device's queue with cancel.
import { api, live } from './api.js';
import { channelSelect, errorBox, field, fill, h, time } from './dom.js';

function control(name, spec) {
  const common = { name: `p.${name}`, required: spec.required || null, title: spec.description };
  if (spec.type === 'boolean') return h('input', { ...common, type: 'checkbox', required: null });
  if (spec.type === 'integer') return h('input', { ...common, type: 'number', step: 1, min: spec.min, max: spec.max });
  if (spec.type === 'hex') return h('input', { ...common, pattern: '([0-9a-fA-F]{2})*', placeholder: 'hex bytes' });
  return h('input', { ...common, type: 'text', maxlength: spec.max });
}

function valueOf(spec, input) {
  if (spec.type === 'boolean') return input.checked;
  if (input.value === '') return undefined;
  return spec.type === 'integer' ? Number(input.value) : input.value;
}

export function commandsPage(main, { channels }) {
  if (channels.length === 0) return void fill(main, h('p', {}, 'This server runs no channel.'));
  const sel = channelSelect(channels, () => loadList());
  const ident = h('input', { name: 'ident', required: true, size: 20, value: sessionStorage.getItem('edge-console-ident') ?? '' });
  const cmd = h('select', { name: 'command' });
  const describe = h('p', { class: 'notice' });
  const props = h('div', { class: 'bar' });
  const meta = h('textarea', { name: 'meta', rows: 3, cols: 40, placeholder: '{"ticket": "OPS-1"}' });
  const ttl = h('input', { name: 'ttl', type: 'number', min: 1, placeholder: '3600', size: 6 });
  const timeout = h('input', { name: 'timeout', type: 'number', min: 1, max: 600, placeholder: '15', size: 6 });
  const result = h('div', { 'aria-live': 'polite' });
  const events = h('ul', { class: 'stream', 'aria-label': 'command events, newest first' });
  const queue = h('div');
  const status = h('span', { class: 'notice', 'aria-live': 'polite' });
  let specs = [];
  let stopLive = null;
  let watched = null;
  let opened = Promise.resolve();

  fill(main, h('h2', {}, 'Commands'),
    h('div', { class: 'cols' },
      h('form', { class: 'panel', onsubmit: send },
        h('div', { class: 'bar' }, field('Channel', sel), field('Device ident', ident), field('Command', cmd)),
        describe, props,
        h('div', { class: 'bar' }, field('meta (JSON object, echoed on every event)', meta), field('ttl (s)', ttl), field('timeout (s)', timeout)),
        h('button', { type: 'submit', class: 'primary' }, 'Send'), result),
      h('div', {}, h('div', { class: 'bar' }, h('h3', {}, 'Events'), status), events, h('h3', {}, 'Queue'), queue)));
  cmd.addEventListener('change', renderProps);
  ident.addEventListener('change', () => watch());

  function renderProps() {
    const s = specs.find((c) => c.name === cmd.value);
    fill(describe, s ? s.description : '');
    fill(props, s ? Object.entries(s.properties).map(([n, p]) => field(`${n}${p.required ? ' *' : ''} (${p.type}${p.min !== undefined ? `, ${p.min}..${p.max ?? ''}` : ''})`, control(n, p))) : []);
  }

  async function loadList() {
    try {
      const r = await api(`/api/v1/channels/${encodeURIComponent(sel.value)}/commands`);
      specs = r.items;
      fill(cmd, specs.map((c) => h('option', { value: c.name }, c.name)));
      renderProps();
    } catch (e) {
      fill(props, errorBox('The command list could not be read', e));
    }
    watch();
  }

  async function loadQueue() {
    const id = ident.value.trim();
    if (!id) return void fill(queue, h('p', { class: 'notice' }, 'Name a device to see its queue.'));
    try {
      const r = await api(`/api/v1/devices/${encodeURIComponent(sel.value)}/${encodeURIComponent(id)}/commands`);
      fill(queue, r.held.length === 0 ? h('p', { class: 'notice' }, 'No command held for this device.') : h('table', { 'aria-label': 'queued commands' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Id'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, ''))),
        h('tbody', {}, r.held.map((c) => h('tr', {}, h('td', { class: 'mono' }, c.id), h('td', {}, c.name), h('td', {}, c.state),
          h('td', {}, h('button', { type: 'button', onclick: () => cancel(c.id), 'aria-label': `cancel command ${c.id}` }, 'Cancel')))))),
        r.recent.length ? [h('h3', {}, 'Recent'), h('ul', {}, r.recent.map((c) => h('li', {}, `${time(c.at)} ${c.name} ${c.status}${c.code ? ` (${c.code})` : ''}`)))] : null);
    } catch (e) {
      fill(queue, errorBox('The queue could not be read', e));
    }
  }

  async function cancel(id) {
    try {
      await api(`/api/v1/devices/${encodeURIComponent(sel.value)}/${encodeURIComponent(ident.value.trim())}/commands/${encodeURIComponent(id)}`, { method: 'DELETE' });
    } catch (e) {
      fill(result, errorBox('Cancel failed', e));
    }
  }

  function watch() {
    stopLive?.();
    fill(events);
    const id = ident.value.trim();
    sessionStorage.setItem('edge-console-ident', id);
    loadQueue();
    if (!id) return;
    watched = `${sel.value}/${id}`;
    let isOpen;
    opened = new Promise((res) => { isOpen = res; setTimeout(res, 3000); });
    stopLive = live({ channel: sel.value, ident: id, types: 'command' }, (_type, ev) => {
      const p = ev.payload;
      events.prepend(h('li', { 'data-status': ev.sub, 'data-id': p.id }, h('strong', {}, ev.sub), ` ${p.id} ${p.name ?? ''}`, h('pre', {}, JSON.stringify(p, null, 1))));
      loadQueue();
    }, (state, detail) => {
      if (state === 'open') isOpen();
      fill(status, state === 'open' ? 'live' : state === 'error' ? h('span', { class: 'error', role: 'alert' }, `live feed: ${detail}; retrying`) : '');
    });
  }

  async function send(e) {
    e.preventDefault();
    // the events of this command must not be missed: watch its device before sending
    if (watched !== `${sel.value}/${ident.value.trim()}`) watch();
    await opened;
    const s = specs.find((c) => c.name === cmd.value);
    if (!s) return void fill(result, errorBox('Not sent', new Error('pick a command')));
    const body = { name: s.name, properties: {} };
    for (const [n, p] of Object.entries(s.properties)) {
      const v = valueOf(p, props.querySelector(`[name="p.${n}"]`));
      if (v !== undefined) body.properties[n] = v;
    }
    if (meta.value.trim()) {
      try {
        body.meta = JSON.parse(meta.value);
      } catch (err) {
        return void fill(result, errorBox('meta is not JSON', err));
      }
    }
    if (ttl.value) body.ttl = Number(ttl.value);
    if (timeout.value) body.timeout = Number(timeout.value);
    try {
      const r = await api(`/api/v1/devices/${encodeURIComponent(sel.value)}/${encodeURIComponent(ident.value.trim())}/commands`, { method: 'POST', body });
      fill(result, h('p', { class: 'ok' }, `Sent as ${r.id}; its events follow.`));
    } catch (err) {
      fill(result, errorBox('Not sent', err));
    }
  }

  loadList();
  return () => stopLive?.();
}
