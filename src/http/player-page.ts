/**
 * The live player (README "Video"): one page, no library, no CDN. It reads the API token from the
 * URL fragment (`#token=…`, never sent to the server by the browser) or from the console's
 * sessionStorage, fetches `/api/v1/live/{channel}/{ident}/{camera}` (fragmented MP4, codec in the
 * `x-edge-codec` header) and feeds Media Source Extensions: each chunk appended after the previous
 * append finished; the playhead starts at the first buffered picture and is pulled forward when it
 * lags more than 2 s (live, not a recording); old video is evicted so the buffer stays small.
 * `window.edgePlayer` exposes the state for tests and embedding pages.
 */
export function playerPage(channel: string, ident: string, camera: number): string {
  const src = `/api/v1/live/${encodeURIComponent(channel)}/${encodeURIComponent(ident)}/${camera}`;
  const title = `${ident} camera ${camera}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} — edge-channel live</title>
<style>body{margin:0;background:#111;color:#ddd;font:14px system-ui,sans-serif}video{display:block;width:100%;max-height:90vh;background:#000}p{margin:.5em 1em}</style>
</head><body>
<video id="video" muted autoplay playsinline controls aria-label="live video of ${escapeHtml(title)}"></video>
<p id="status" role="status" aria-live="polite">connecting…</p>
<script type="module">
const SRC = ${JSON.stringify(src)};
const video = document.getElementById('video');
const status = document.getElementById('status');
const state = (window.edgePlayer = { phase: 'connecting', error: null, chunks: 0, codec: null });
const say = (phase, text) => { state.phase = phase; status.textContent = text; };
const token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('edge-token') || '';
async function run() {
  const res = await fetch(SRC, { headers: token ? { authorization: 'Bearer ' + token } : {} });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error((body.code || res.status) + ': ' + (body.reason || res.statusText));
  }
  const codec = res.headers.get('x-edge-codec');
  const mime = 'video/mp4; codecs="' + codec + '"';
  state.codec = codec;
  if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) throw new Error('this browser cannot play ' + mime);
  const ms = new MediaSource();
  video.src = URL.createObjectURL(ms);
  await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
  const sb = ms.addSourceBuffer(mime);
  const append = (chunk) => new Promise((resolve, reject) => {
    sb.addEventListener('updateend', resolve, { once: true });
    sb.addEventListener('error', () => reject(new Error('the browser refused the video data')), { once: true });
    sb.appendBuffer(chunk);
  });
  const reader = res.body.getReader();
  say('playing', 'live: ' + (res.headers.get('x-edge-video-size') || '') + ' ' + codec);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    await append(value);
    state.chunks++;
    const b = sb.buffered;
    if (b.length) {
      const start = b.start(0), end = b.end(b.length - 1);
      if (video.currentTime < start || end - video.currentTime > 2) video.currentTime = Math.max(start, end - 0.3);
      if (end - start > 30 && !sb.updating) await new Promise((r) => { sb.addEventListener('updateend', r, { once: true }); sb.remove(start, end - 10); });
    }
    if (video.paused) video.play().catch(() => {});
  }
  say('ended', 'the stream ended');
}
run().catch((e) => { state.error = e.message; say('error', e.message); });
</script>
</body></html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
