// Live video: a jt808 device's camera channel (JT/T 1078), played with the same player module as
// the standalone page /live/{channel}/{ident}/{camera} (live-player.js). Play asks the server for
// the stream, which starts the camera (0x9101); Stop, leaving the tab or playing another camera
// closes the request, and the server stops the camera once nobody watches (video.idle_s).
import { api, token } from './api.js';
import { channelSelect, errorBox, field, fill, h } from './dom.js';
import { playLive } from './live-player.js';

const PHASES = {
  connecting: (p) => `Starting camera ${p.camera} of ${p.ident}… (the device is asked to stream; the first picture can take a few seconds)`,
  playing: (p, s) => `Live: camera ${p.camera} of ${p.ident}, ${s.size ?? ''} ${s.codec}`,
  ended: () => 'The stream ended (the camera or the device stopped, or video.max_live_s passed).',
  stopped: () => 'Stopped.',
};

export function videoPage(main, { channels }) {
  // only jt808 channels have cameras that stream (their stream_tcp_port)
  const jt = channels.filter((c) => c.protocol === 'jt808');
  if (jt.length === 0) return void fill(main, h('h2', {}, 'Live video'), h('p', {}, 'No jt808 channel runs on this server: live video comes from JT/T 1078 cameras on a jt808 channel with stream_tcp_port set.'));
  const sel = channelSelect(jt, () => loadDevices());
  const ident = h('input', { name: 'ident', list: 'video-devices', size: 20, required: true, autocomplete: 'off', value: sessionStorage.getItem('edge-console-video-ident') ?? '' });
  const known = h('datalist', { id: 'video-devices' });
  const camera = h('select', { name: 'camera' }, [1, 2, 3, 4, 5, 6, 7, 8].map((n) => h('option', { value: String(n) }, String(n))));
  const playBtn = h('button', { type: 'submit', class: 'primary' }, 'Play');
  const stopBtn = h('button', { type: 'button', disabled: true, onclick: () => stop() }, 'Stop');
  const status = h('div', { role: 'status', 'aria-live': 'polite', class: 'notice', id: 'video-status' }, 'Pick a device and a camera channel, then Play.');
  const problem = h('div');
  const video = h('video', { id: 'live-video', muted: true, autoplay: true, playsinline: true, controls: true, 'aria-label': 'live video' });
  video.muted = true; // the attribute alone does not mute a media element created by script
  let player = null;

  fill(main, h('h2', {}, 'Live video'),
    h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); play(); } },
      field('Channel', sel), field('Device ident', ident), known, field('Camera channel', camera), playBtn, stopBtn),
    status, problem, h('div', { class: 'live' }, video));

  function stop() {
    player?.stop();
    player = null;
    stopBtn.disabled = true;
  }

  function play() {
    stop();
    const p = { channel: sel.value, ident: ident.value.trim(), camera: Number(camera.value) };
    if (!p.ident) return;
    sessionStorage.setItem('edge-console-video-ident', p.ident);
    fill(problem);
    video.setAttribute('aria-label', `live video of camera ${p.camera} of ${p.ident}`);
    stopBtn.disabled = false;
    player = playLive(video, { ...p, token: token.get(), onState: (s) => {
      if (s.phase === 'error') {
        stopBtn.disabled = true;
        fill(status);
        // the code stays visible (and in data-code): it is what the server log and the docs name
        fill(problem, h('div', { class: 'error', role: 'alert', 'data-code': s.code ?? '' }, `Live video of camera ${p.camera} of ${p.ident} failed: ${s.error}`));
        return;
      }
      if (s.phase === 'ended') stopBtn.disabled = true;
      fill(status, PHASES[s.phase](p, s));
    } });
  }

  async function loadDevices() {
    fill(known);
    try {
      const r = await api(`/api/v1/channels/${encodeURIComponent(sel.value)}/devices`);
      const list = [...r.items].sort((a, b) => b.connected - a.connected);
      fill(known, list.map((d) => h('option', { value: d.ident }, d.connected ? 'online' : 'offline')));
      // an online device is the likely pick: offered first and filled in when nothing is
      if (!ident.value && list[0]?.connected) ident.value = list[0].ident;
    } catch (e) {
      fill(problem, errorBox('Devices could not be read', e));
    }
  }
  loadDevices();
  return stop;
}
