/**
 * Child process of test/scale-out.test.ts: one server instance from the raw config (JSON) in
 * argv[2]; prints `port <n>` of its first channel once listening. The parent kills it with SIGKILL.
 */
import { Writable } from 'node:stream';
import { startApp } from '../../src/app.js';
import { validateConfig } from '../../src/config/validate.js';
import { createLogger } from '../../src/util/log.js';

const config = validateConfig(JSON.parse(process.argv[2]!) as Record<string, unknown>);
const app = await startApp(config, { log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })), threads: 'inline' });
process.stdout.write(`port ${app.channels[0]!.tcpPort}\n`);
