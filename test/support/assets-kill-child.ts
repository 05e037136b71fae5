/**
 * Child process of test/assets-kill.test.ts: an asset service on the store directory given in
 * argv[2] (fsync on), 50 assets with rules, fed messages as fast as their changes become durable:
 * message i moves asset a{i % 50} to device dev{i} at device time T0 + i. Prints i once `observe`
 * reports the change durable (when a frame would be acknowledged). The parent kills it with SIGKILL.
 */
import { Writable } from 'node:stream';
import { AssetService } from '../../src/assets/asset-service.js';
import { FileAssetStore } from '../../src/assets/file-asset-store.js';
import { makeTopics } from '../../src/mqtt/topics.js';
import { createLogger } from '../../src/util/log.js';

export const KILL_T0 = 1_700_000_000;
export const KILL_ASSETS = 50;
export const killAssets = () => Array.from({ length: KILL_ASSETS }, (_, k) => ({ id: `a${k}`, name: `A${k}`, type: 'driver', match: { parameter: 'card', value: `v${k}` } }));

if (process.argv[1]?.endsWith('assets-kill-child.js')) {
  const noop = () => {};
  const svc = new AssetService({
    store: new FileAssetStore({ dir: process.argv[2]!, fsync: true }),
    mqtt: { state: noop, clear: noop, event: noop, subscribe: async () => {} },
    topics: makeTopics('kill'),
    settings: { absence_grace_s: 0, max_intervals: 100_000, max_late_s: 1e9, max_future_s: 300, max_meta_bytes: 8192 },
    declared: killAssets(),
    log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    setWatch: noop,
  });
  await svc.start();
  for (let i = 0; ; i++) {
    const names = ['card'];
    await new Promise<void>((resolve, reject) => {
      const took = svc.observe('1', `dev${i}`, { names, values: [KILL_T0 + i, `v${i % KILL_ASSETS}`] }, 0, (e) => (e ? reject(e) : resolve()));
      if (!took) reject(new Error(`message ${i} changed nothing`));
    });
    process.stdout.write(`${i}\n`);
  }
}
