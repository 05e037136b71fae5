/**
 * HTTP API bench: what the media routes cost on this machine. A large file downloaded whole and by
 * 1 MiB ranges (the way a video element seeks), through a signed link; and the list route against a
 * media folder of N files (the catalogue reads the folder and each file's sidecar per request).
 *
 *   npm run build && node dist/bench/http-bench.js [--quick] [--files N[,N…]] [--mb N] [--json]
 *
 * The server is the one `edge-channel start` runs (src/http/server.ts) on loopback, the client is
 * Node's fetch in the same process: figures include the client's cost, as a browser's would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpServer } from '../src/http/server.js';
import { parseTokens } from '../src/http/tokens.js';
import { MediaCatalog, mediaId } from '../src/media/media-catalog.js';
import { MediaLinks } from '../src/media/media-links.js';
import { sidecarPath } from '../src/media/media-store.js';
import { machineLine } from './lib/machine.js';
import { arg, check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { median, round } from './lib/stats.js';
import { mdTable } from './lib/table.js';

const TOKEN = 'bench-token-0123456789abcdef';

interface ListCase {
  files: number;
  requests: number;
  /** The first request after the files were added (the changed folders are read). */
  first_ms: number;
  ms_median: number;
  requests_per_s: number;
}

/**
 * Writes `n` small stored files (and sidecars) over 10 devices, as the media store lays them out.
 * Asynchronously, in batches: a blocked event loop would let the server drop the client's idle
 * keep-alive socket under it (a reset on the next request, not a figure).
 */
async function fill(dir: string, from: number, n: number, t0: number): Promise<void> {
  for (let d = 0; d < 10; d++) mkdirSync(join(dir, '1', `8600000000${String(d).padStart(5, '0')}`), { recursive: true });
  for (let i = from; i < from + n; i += 256) {
    const batch: Promise<void>[] = [];
    for (let k = i; k < Math.min(i + 256, from + n); k++) {
      const folder = join(dir, '1', `8600000000${String(k % 10).padStart(5, '0')}`);
      const at = t0 + k * 1000;
      const name = `image-${new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-k${k}.jpg`;
      const body = Buffer.from(`photo ${k}`);
      batch.push(writeFile(join(folder, name), body));
      batch.push(writeFile(sidecarPath(join(folder, name)), JSON.stringify({ key: `k${k}`, kind: 'image', bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'), stored_at_ms: at })));
    }
    await Promise.all(batch);
  }
}

export async function main(): Promise<BenchReport<{ download: Record<string, number>; list: ListCase[] }>> {
  const { machine, t0 } = startReport();
  const quick = quickMode();
  const mb = numArg('mb', undefined, quick ? 32 : 256);
  const sizes = (arg('files') ?? (quick ? '100,1000' : '1000,10000,100000')).split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'edge-http-bench-'));
  const catalog = new MediaCatalog(dir);
  const links = new MediaLinks({ publicUrl: () => base, key: 'bench-link-key-0123456789', mediaDir: dir, ttlS: 0 });
  let base = '';
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    readiness: () => ({ ready: true, reasons: [] }),
    metrics: { text: async () => '', contentType: 'text/plain' },
    media: { catalog, links, maxPropertiesBytes: 4096 },
    tokens: parseTokens(`read:${TOKEN}`),
    deleted: () => {},
  });
  base = `http://127.0.0.1:${server.port}`;
  try {
    // one large video
    const folder = join(dir, '7', '013912345678');
    mkdirSync(folder, { recursive: true });
    const name = 'video-20261205T100000Z-big.mp4';
    const big = randomBytes(mb * 1024 * 1024);
    writeFileSync(join(folder, name), big);
    writeFileSync(sidecarPath(join(folder, name)), JSON.stringify({ key: 'big', kind: 'video', bytes: big.length, sha256: createHash('sha256').update(big).digest('hex'), stored_at_ms: Date.now() }));
    const url = links.url(mediaId('7', '013912345678', name));
    const whole: number[] = [];
    for (let r = 0; r < (quick ? 2 : 3); r++) {
      const s = performance.now();
      const got = await (await fetch(url)).arrayBuffer();
      whole.push(performance.now() - s);
      if (got.byteLength !== big.length) throw new Error('short download');
    }
    const s = performance.now();
    const step = 1024 * 1024;
    for (let off = 0; off < big.length; off += step) {
      const res = await fetch(url, { headers: { range: `bytes=${off}-${Math.min(off + step, big.length) - 1}` } });
      if (res.status !== 206) throw new Error(`range: ${res.status}`);
      await res.arrayBuffer();
    }
    const rangedMs = performance.now() - s;
    const download = { mb, whole_ms: round(median(whole), 1), whole_mb_per_s: round(mb / (median(whole) / 1000), 1), ranges_1mib_ms: round(rangedMs, 1), ranges_mb_per_s: round(mb / (rangedMs / 1000), 1) };
    rmSync(folder, { recursive: true, force: true });

    const list: ListCase[] = [];
    const firstMs: number[] = [];
    let have = 0;
    const start = Date.UTC(2026, 0, 1);
    for (const n of sizes) {
      await fill(dir, have, n - have, start);
      have = n;
      const times: number[] = [];
      const requests = n >= 100_000 ? 5 : n >= 10_000 ? 10 : 30;
      // the first request after new files reads the changed folders (the catalogue's per-folder cache)
      const first = performance.now();
      await (await fetch(`${base}/api/v1/media?limit=100&kind=image`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
      firstMs.push(round(performance.now() - first, 1));
      for (let r = 0; r < requests; r++) {
        const q = performance.now();
        const res = await fetch(`${base}/api/v1/media?limit=100&kind=image`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const body = (await res.json()) as { total: number };
        if (body.total !== n) throw new Error(`listed ${body.total} of ${n}`);
        times.push(performance.now() - q);
      }
      const m = median(times);
      list.push({ files: n, requests, first_ms: firstMs.at(-1)!, ms_median: round(m, 1), requests_per_s: round(1000 / m, 1) });
    }
    const markdown = [
      `### http (${machineLine(machine)})`,
      '',
      mdTable(['download', 'MiB', 'ms', 'MB/s'], [['whole file, signed link', mb, download.whole_ms, download.whole_mb_per_s], ['1 MiB ranges, one after the other', mb, download.ranges_1mib_ms, download.ranges_mb_per_s]], 1),
      '',
      mdTable(['files in the folder', 'first list after adding, ms', 'requests', 'list ms (median)', 'list requests/s'], list.map((c) => [c.files, c.first_ms, c.requests, c.ms_median, c.requests_per_s]), 1),
    ].join('\n');
    const largest = list.at(-1)!;
    return {
      name: 'http',
      machine,
      options: { quick, mb, sizes },
      duration_s: round((performance.now() - t0) / 1000, 1),
      data: { download, list },
      targets: [check('download throughput and list requests/s reported (no target set)', `${download.whole_mb_per_s} MB/s whole; ${largest.requests_per_s} list requests/s at ${largest.files} files`, null, 'figures only')],
      markdown,
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await runAlone(main);
