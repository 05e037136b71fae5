import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FileAssetStore } from '../src/assets/file-asset-store.js';
import { RedisAssetStore } from '../src/assets/redis-asset-store.js';
import { RedisCommandStore } from '../src/cluster/redis-command-store.js';
import { FileCommandStore } from '../src/commands/file-command-store.js';
import { REDIS_URL, redisSkipReason, uniquePrefix } from './support/redis.js';
import { assetStoreSuite, commandStoreSuite, type Backend } from './support/store-suites.js';
import type { AssetStore } from '../src/assets/asset-store.js';
import type { CommandStore } from '../src/commands/command-store.js';

/** Every store backend against the same contract (test/support/store-suites.ts). */

const redisSkip = await redisSkipReason();

function fileBackend<S>(name: string, make: (dir: string) => S): () => Backend<S> {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-store-'));
    return { name, skip: false, open: async () => make(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  };
}

function redisBackend<S>(name: string, make: (prefix: string) => S): () => Backend<S> {
  return () => {
    const prefix = uniquePrefix('edge-test-stores');
    return {
      name,
      skip: redisSkip,
      open: async () => make(prefix),
      cleanup: async () => {
        const r = new Redis(REDIS_URL);
        const keys = await r.keys(`${prefix}*`);
        if (keys.length) await r.del(...keys);
        await r.quit();
      },
    };
  };
}

commandStoreSuite(fileBackend<CommandStore>('file', (dir) => new FileCommandStore({ dir, fsync: true })));
commandStoreSuite(redisBackend<CommandStore>('redis', (prefix) => new RedisCommandStore({ url: REDIS_URL, prefix })));
assetStoreSuite(fileBackend<AssetStore>('file', (dir) => new FileAssetStore({ dir, fsync: true })));
assetStoreSuite(redisBackend<AssetStore>('redis', (prefix) => new RedisAssetStore({ url: REDIS_URL, prefix })));
