// The console's one way to the server: the HTTP API with the bearer token the user logged in with,
// and the live feed (Server-Sent Events read with fetch, so the token travels in a header, not in
// the URL where proxies and logs would keep it).
const KEY = 'edge-console-token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, code, reason) {
    super(`${reason} (${code}, HTTP ${status})`);
    this.status = status;
    this.code = code;
  }
}

/** A 401 anywhere sends the user back to the login page. */
let unauthorized = () => {};
export function onUnauthorized(fn) {
  unauthorized = fn;
}

export async function api(path, { method = 'GET', body, tokenOverride } = {}) {
  const headers = { authorization: `Bearer ${tokenOverride ?? token.get() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the server cannot be reached: ${e.message}`);
  }
  if (r.status === 204) return null;
  let j;
  try {
    j = await r.json();
  } catch {
    throw new ApiError(r.status, 'EDGE_HTTP_INTERNAL', `HTTP ${r.status} without a JSON body`);
  }
  if (!r.ok) {
    if (r.status === 401 && tokenOverride === undefined) unauthorized();
    throw new ApiError(r.status, j.code ?? 'EDGE_HTTP_INTERNAL', j.reason ?? `HTTP ${r.status}`);
  }
  return j;
}

/**
 * The live feed: `GET /api/v1/events` with `channel`, `ident`, `types` filters. Calls
 * `onEvent(type, data)` per event and `onState(state, detail)` with `open`, `error` (retried after
 * 2 s) and `closed`. Returns `close()`.
 */
export function live(params, onEvent, onState = () => {}) {
  const ctl = new AbortController();
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      try {
        const r = await fetch(`/api/v1/events?${qs}`, { headers: { authorization: `Bearer ${token.get() ?? ''}` }, signal: ctl.signal });
        if (!r.ok) {
          const j = await r.json().catch(() => ({}));
          if (r.status === 401) return unauthorized();
          throw new Error(j.reason ?? `HTTP ${r.status}`);
        }
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let type = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (!data) continue;
            if (type === 'ready') {
              onState('open');
              continue;
            }
            try {
              onEvent(type, JSON.parse(data));
            } catch (e) {
              console.warn('live feed: an event was not handled', e);
            }
          }
        }
        if (!stopped) throw new Error('the live feed ended');
      } catch (e) {
        if (stopped) break;
        onState('error', e.message);
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
    onState('closed');
  };
  run();
  return () => {
    stopped = true;
    ctl.abort();
  };
}

/** A signed media link as a path on this server (the link's host may be the listener's own address). */
export function localLink(url) {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}
