// Lint rules that keep the architecture honest: protocol modules stay pure (no sockets, MQTT,
// logging, workers or file system), `src/` folders import only the layers below them
// (ARCHITECTURE.md §2, "Layers"), and TypeScript seams carry no `any`.
import tseslint from 'typescript-eslint';

/**
 * The layers of src/: each folder (or top-level file) and the folders it may import. Anything not
 * listed is forbidden, so a new import across the layers fails the lint instead of a review.
 * `app` (app.ts and src/app/) wires everything; `cli` may use everything. Tests are exempt.
 */
const LAYERS = {
  errors: [],
  util: ['errors'],
  codec: ['errors'],
  storage: ['errors', 'util'],
  protocol: ['errors', 'util', 'codec'],
  tacho: ['errors', 'util', 'codec'],
  video: ['errors', 'util', 'codec', 'protocol'],
  guard: ['errors', 'util', 'storage'],
  config: ['errors', 'util', 'codec', 'guard', 'protocol'],
  mqtt: ['errors', 'util'],
  message: ['errors', 'util', 'mqtt', 'protocol'],
  net: ['errors', 'util', 'codec', 'protocol', 'config', 'guard'],
  media: ['errors', 'util', 'mqtt', 'protocol', 'storage'],
  pool: ['errors', 'util', 'codec', 'message', 'protocol', 'tacho'],
  reliability: ['errors', 'util', 'message', 'mqtt', 'storage'],
  credentials: ['errors', 'util', 'storage'],
  ops: ['errors', 'util', 'guard', 'reliability'],
  http: ['errors', 'util', 'media', 'ops', 'protocol', 'storage'],
  relay: ['errors', 'util', 'message', 'mqtt', 'protocol'],
  replay: ['errors', 'util', 'codec', 'mqtt', 'net', 'protocol'],
  channel: ['errors', 'util', 'codec', 'config', 'credentials', 'guard', 'media', 'message', 'mqtt', 'net', 'ops', 'pool', 'protocol', 'storage'],
  commands: ['errors', 'util', 'config', 'message', 'mqtt', 'protocol', 'storage'],
  assets: ['errors', 'util', 'message', 'mqtt', 'pool', 'storage'],
  cluster: ['errors', 'util', 'commands', 'mqtt', 'storage'],
  processes: ['errors', 'util', 'config', 'net'],
  tachograph: ['errors', 'util', 'codec', 'media', 'pool', 'protocol', 'storage', 'tacho'],
  live: ['errors', 'util', 'codec', 'media', 'protocol', 'video'],
  app: ['*'],
  cli: ['*'],
};
const TOP_FILES = new Set(['errors', 'app', 'cli']);
const PURE = {
  group: ['node:net', 'net', 'node:dgram', 'dgram', 'node:fs', 'fs', 'node:worker_threads', 'mqtt', 'aedes', 'pino', 'piscina', '**/src/net/**', '**/src/mqtt/**', '**/src/pool/**', '**/src/util/log*'],
  message: 'protocols are pure: bytes in, messages and replies out (ARCHITECTURE.md §3)',
};
const PURE_GLOBALS = [{ name: 'Date', message: 'decoders are clock-free: use ctx.receivedAtMs' }, { name: 'console', message: 'no logging inside protocols' }, { name: 'process', message: 'no globals inside protocols' }];

/** Import specifiers of `folder` (or the top-level file of that name) as written from inside src/<x>/ (any depth up to 3). */
function specifiersOf(folder) {
  const out = [];
  for (const up of ['../', '../../', '../../../']) {
    out.push(`${up}${folder}/**`);
    if (TOP_FILES.has(folder)) out.push(`${up}${folder}.js`);
  }
  return out;
}

function layerBlocks() {
  const all = Object.keys(LAYERS);
  return all
    .filter((f) => !LAYERS[f].includes('*'))
    .map((folder) => {
      const forbidden = all.filter((o) => o !== folder && !LAYERS[folder].includes(o));
      const patterns = [
        { group: forbidden.flatMap(specifiersOf), message: `src/${folder} may import only ${LAYERS[folder].join(', ') || 'nothing of src/'} (ARCHITECTURE.md §2, "Layers")` },
        { group: ['**/test/**'], message: 'source never imports test code (test helpers live in test/support)' },
      ];
      // one place makes Redis connections and keys (options per role, redis_prefix honoured)
      if (folder !== 'storage') patterns.push({ group: ['ioredis'], allowTypeImports: true, message: 'Redis connections and keys are made in src/storage/redis.ts only' });
      // the DDD parser is pure too: the worker pool and the CLI run the same code
      if (folder === 'tacho' || folder === 'video') patterns.push(PURE);
      const block = {
        files: TOP_FILES.has(folder) ? [`src/${folder}.ts`] : [`src/${folder}/**/*.ts`],
        ignores: ['**/*.test.ts', '**/test-*.ts'],
        rules: { 'no-restricted-imports': ['error', { patterns }] },
      };
      if (folder === 'tacho' || folder === 'video') block.rules['no-restricted-globals'] = ['error', ...PURE_GLOBALS];
      return block;
    });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['protocols/**/*.ts'],
    ignores: ['protocols/**/*.test.ts', 'protocols/**/test-*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [PURE] }],
      'no-restricted-globals': ['error', ...PURE_GLOBALS],
    },
  },
  ...layerBlocks(),
);
