/**
 * The standalone live player (`GET /live/{channel}/{ident}/{camera}`): one page, no library, no CDN.
 * The player itself is the console's module `/console/live-player.js` (the Live video tab plays with
 * the same code; the app serves the console whenever it serves live video: both need http.tokens).
 * The token comes from the URL fragment (`#token=…`, never sent to the server by the browser) or from
 * the console's sessionStorage (a page opened from a logged-in console tab).
 * `window.edgePlayer` ({phase, error, code, chunks, codec}) exposes the state for tests and embedding pages.
 */
export function playerPage(channel: string, ident: string, camera: number): string {
  const title = `${ident} camera ${camera}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} — edge-channel live</title>
<style>body{margin:0;background:#111;color:#ddd;font:14px system-ui,sans-serif}video{display:block;width:100%;max-height:90vh;background:#000}p{margin:.5em 1em}</style>
</head><body>
<video id="video" muted autoplay playsinline controls aria-label="live video of ${escapeHtml(title)}"></video>
<p id="status" role="status" aria-live="polite">connecting…</p>
<script type="module">
import { playLive } from '/console/live-player.js';
import { token } from '/console/api.js';
const status = document.getElementById('status');
const TEXT = { connecting: () => 'connecting…', playing: (s) => 'live: ' + (s.size || '') + ' ' + s.codec, ended: () => 'the stream ended', stopped: () => 'stopped', error: (s) => s.error };
const player = playLive(document.getElementById('video'), {
  ...${JSON.stringify({ channel, ident, camera }).replace(/</g, '\\u003c')},
  token: new URLSearchParams(location.hash.slice(1)).get('token') || token.get() || '',
  onState: (s) => { status.textContent = TEXT[s.phase](s); },
});
window.edgePlayer = player.state;
</script>
</body></html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
