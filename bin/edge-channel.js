#!/usr/bin/env node
// Entry for the `edge-channel` bin: runs the compiled CLI (npm run build produces dist/).
import { existsSync } from 'node:fs';
const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('edge-channel is not built yet: run `npm run build` (npm start and npm test build automatically).');
  process.exit(2);
}
await import(cli.href);
