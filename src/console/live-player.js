// The live video player, shared by the console's Live video tab and the standalone player page
// (src/http/player-page.ts loads it from /console/live-player.js), so there is one copy of the MSE
// logic. It fetches `/api/v1/live/{channel}/{ident}/{camera}` with the token in a header (never in
// the URL), and feeds Media Source Extensions: each chunk appended once the previous append ended;
// the playhead starts at the first buffered picture and is pulled forward when it lags more than
// 2 s (live, not a recording); old video is evicted so the buffer stays small.

/** Why a live request failed, in words, per typed error code (src/http/live-routes.ts). */
const REASONS = {
  EDGE_DEVICE_OFFLINE: 'The device is offline: its camera can only be started while it is connected.',
  EDGE_STREAM_TIMEOUT: 'The camera sent no picture in time (it did not connect to the stream port, or sent no keyframe).',
  EDGE_STREAM_LIMIT: 'Too many viewers are watching this camera already (video.max_viewers).',
  EDGE_STREAM_UNSUPPORTED: 'This camera\'s video cannot be played here (its codec, or a channel without a stream port).',
  EDGE_TRANSCODER_UNAVAILABLE: 'The camera sends H.265 and the server has no ffmpeg to convert it for browsers.',
  EDGE_HTTP_UNAUTHORIZED: 'The server refused the token.',
  EDGE_HTTP_BAD_REQUEST: 'The request was refused.',
};

export class LiveError extends Error {
  constructor(code, reason, status) {
    super(`${REASONS[code] ?? 'The live stream failed.'} ${reason} (${code}${status ? `, HTTP ${status}` : ''})`);
    this.code = code;
  }
}

export function liveUrl(channel, ident, camera) {
  return `/api/v1/live/${encodeURIComponent(channel)}/${encodeURIComponent(ident)}/${Number(camera)}`;
}

/**
 * Plays a camera channel into `video`. `state` ({phase, error, code, chunks, codec, size}) is
 * updated in place (the player page exposes it as `window.edgePlayer`); `onState(state)` is called
 * on every phase change. Phases: connecting, playing, ended, stopped, error. `stop()` aborts the
 * request: the server sees the viewer leave and stops the camera after video.idle_s.
 */
export function playLive(video, { channel, ident, camera, token, onState = () => {} }) {
  const state = { phase: 'connecting', error: null, code: null, chunks: 0, codec: null, size: null };
  const ctl = new AbortController();
  let objectUrl = null;
  const set = (phase, extra = {}) => {
    Object.assign(state, { phase }, extra);
    onState(state);
  };
  const run = async () => {
    let res;
    try {
      res = await fetch(liveUrl(channel, ident, camera), { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: ctl.signal });
    } catch (e) {
      if (ctl.signal.aborted) throw e;
      throw new LiveError('NETWORK', `the server cannot be reached: ${e.message}`);
    }
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new LiveError(body.code ?? 'EDGE_HTTP_INTERNAL', body.reason ?? res.statusText, res.status);
    }
    const codec = res.headers.get('x-edge-codec');
    const mime = `video/mp4; codecs="${codec}"`;
    if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) throw new LiveError('EDGE_STREAM_UNSUPPORTED', `this browser cannot play ${mime}`);
    const ms = new MediaSource();
    objectUrl = URL.createObjectURL(ms);
    video.src = objectUrl;
    await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
    const sb = ms.addSourceBuffer(mime);
    // one pending append at a time; its listeners go with it (a stream appends for hours)
    const append = (chunk) => new Promise((resolve, reject) => {
      const done = (ev) => {
        sb.removeEventListener('updateend', done);
        sb.removeEventListener('error', done);
        if (ev.type === 'error') reject(new Error('the browser refused the video data'));
        else resolve();
      };
      sb.addEventListener('updateend', done);
      sb.addEventListener('error', done);
      sb.appendBuffer(chunk);
    });
    const reader = res.body.getReader();
    set('playing', { codec, size: res.headers.get('x-edge-video-size') });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await append(value);
      state.chunks++;
      const b = sb.buffered;
      if (b.length) {
        const start = b.start(0);
        const end = b.end(b.length - 1);
        if (video.currentTime < start || end - video.currentTime > 2) video.currentTime = Math.max(start, end - 0.3);
        if (end - start > 30 && !sb.updating) await new Promise((r) => { sb.addEventListener('updateend', r, { once: true }); sb.remove(start, end - 10); });
      }
      if (video.paused) video.play().catch(() => {});
    }
    set('ended');
  };
  run().catch((e) => {
    if (ctl.signal.aborted) return;
    set('error', { error: e.message, code: e.code ?? null });
  });
  return {
    state,
    stop() {
      if (ctl.signal.aborted) return;
      ctl.abort();
      // the picture goes with the stream: a frozen last frame would look live
      video.removeAttribute('src');
      video.load();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      if (state.phase === 'connecting' || state.phase === 'playing') set('stopped');
    },
  };
}
