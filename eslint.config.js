// Lint rules that keep the architecture honest: protocol modules stay pure (no sockets, MQTT,
// logging, workers or file system), and TypeScript seams carry no `any`.
import tseslint from 'typescript-eslint';

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
    // the DDD parser is pure too (src/tacho/ddd/parse.ts): the worker pool and the CLI run the same code
    files: ['protocols/**/*.ts', 'src/tacho/ddd/**/*.ts'],
    ignores: ['protocols/**/*.test.ts', 'protocols/**/test-*.ts', 'src/tacho/ddd/**/*.test.ts', 'src/tacho/ddd/**/test-*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:net', 'net', 'node:dgram', 'dgram', 'node:fs', 'fs', 'node:worker_threads', 'mqtt', 'aedes', 'pino', 'piscina', '**/src/net/**', '**/src/mqtt/**', '**/src/pool/**', '**/src/util/log*'],
            message: 'protocols are pure: bytes in, messages and replies out (ARCHITECTURE.md §3)' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'decoders are clock-free: use ctx.receivedAtMs' }, { name: 'console', message: 'no logging inside protocols' }, { name: 'process', message: 'no globals inside protocols' }],
    },
  },
);
