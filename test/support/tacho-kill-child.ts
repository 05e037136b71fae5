/**
 * Child process of the SIGKILL test in test/tacho.test.ts: a whole server (embedded broker, a
 * Ruptela channel, media store with fsync) on the data directory given in argv[2]; prints its
 * channel port as one JSON line once it listens. The parent kills it with SIGKILL mid-transfer.
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { startApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/validate.js';
import { createLogger } from '../../src/util/log.js';

const dir = process.argv[2]!;
const config = validateConfig({
  instance_id: `tacho-kill-${process.pid}`,
  log_level: 'silent',
  mqtt: { embedded: { host: '127.0.0.1', port: 0 }, topic_root: `tk${process.pid}` },
  spool: { dir: join(dir, 'spool') },
  commands: { dir: join(dir, 'commands') },
  media: { dir: join(dir, 'media'), fsync: true },
  channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }],
  stats_interval_s: 3600,
});
const app = await startApp(config, { log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })), threads: 'inline' });
process.stdout.write(JSON.stringify({ port: app.channels[0]!.tcpPort }) + '\n');
