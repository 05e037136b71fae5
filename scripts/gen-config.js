#!/usr/bin/env node
// Writes what is generated from the configuration schema (src/config/schema.ts): config.schema.json,
// config.example.yaml and the configuration block of README.md. Run after a build:
// `npm run config-schema`. src/config/config-docs.test.ts fails when a committed copy is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const docs = await import(join(root, 'dist/src/config/config-docs.js'));
writeFileSync(join(root, docs.JSON_SCHEMA_FILE), JSON.stringify(docs.configJsonSchema(), null, 2) + '\n');
writeFileSync(join(root, docs.EXAMPLE_FILE), docs.exampleFile());
const readme = join(root, 'README.md');
writeFileSync(readme, docs.readmeWithExample(readFileSync(readme, 'utf8')));
console.log(`wrote ${docs.JSON_SCHEMA_FILE}, ${docs.EXAMPLE_FILE} and the README configuration block`);
