import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { parse } from 'yaml';
import { projectRoot } from '../util/paths.js';
import { configJsonSchema, EXAMPLE_FILE, exampleFile, exampleYaml, JSON_SCHEMA_FILE, README_BEGIN, README_END } from './config-docs.js';
import { DEFAULT_CONFIG } from './defaults.js';
import { isValidHost } from './host.js';
import { envBindings } from './env.js';
import { ConfigSchema } from './schema.js';
import { validateConfig } from './validate.js';

const root = projectRoot();
const read = (f: string) => readFileSync(join(root, f), 'utf8');
const STALE = 'is stale: run `npm run config-schema` and commit the result';

test('config.schema.json, config.example.yaml and the README block are current with src/config/schema.ts', () => {
  assert.deepEqual(JSON.parse(read(JSON_SCHEMA_FILE)), configJsonSchema(), `${JSON_SCHEMA_FILE} ${STALE}`);
  assert.equal(read(EXAMPLE_FILE), exampleFile(), `${EXAMPLE_FILE} ${STALE}`);
  const readme = read('README.md');
  const block = readme.slice(readme.indexOf(README_BEGIN) + README_BEGIN.length, readme.indexOf(README_END));
  assert.equal(block.trim(), '```yaml\n' + exampleYaml() + '```', `README.md configuration block ${STALE}`);
});

test('the example lists every schema key, validates, and shows the defaults the server runs with', () => {
  const example = parse(exampleYaml()) as Record<string, unknown>;
  const missing: string[] = [];
  const walk = (s: TSchema & Record<string, unknown>, v: unknown, path: string) => {
    const node = s.type === 'array' && (s.items as TSchema).type === 'object' ? (s.items as TSchema & Record<string, unknown>) : s;
    // an empty list (e.g. assets) is documented by its schema example, commented out in the YAML
    const emptyList = node !== s && Array.isArray(v) && v.length === 0;
    const value = node === s ? v : emptyList ? (s.examples as unknown[] | undefined)?.[0] : (v as unknown[] | undefined)?.[0];
    if (emptyList) for (const k of Object.keys((node.properties ?? {}) as object)) if (!new RegExp(`#\\s+(- )?${k}:`).test(exampleYaml())) missing.push(`${path}${k} (commented example)`);
    for (const [k, p] of Object.entries((node.properties ?? {}) as Record<string, TSchema & Record<string, unknown>>)) {
      const here = (value as Record<string, unknown> | undefined)?.[k];
      if (here === undefined) missing.push(`${path}${k}`);
      else walk(p, here, `${path}${k}.`);
    }
  };
  walk(ConfigSchema, example, '');
  assert.deepEqual(missing, []);
  const c = validateConfig(example);
  // the optional keys shown empty in the example are absent from the defaults
  assert.deepEqual(c.mqtt.tls, { ca: '', cert: '', key: '', reject_unauthorized: true });
  assert.equal(c.mqtt.username, '');
  delete c.mqtt.tls;
  delete c.mqtt.username;
  delete c.mqtt.password;
  // the API's secrets shown empty: no tokens (no API), a generated link key
  assert.equal(c.http.tokens, '');
  assert.equal(c.http.link_key, '');
  delete c.http.tokens;
  delete c.http.link_key;
  assert.deepEqual(c, DEFAULT_CONFIG);
});

test('the JSON Schema asks editors only for keys without a default', () => {
  const s = configJsonSchema() as { required?: string[]; properties: { channels: { items: { required: string[] } } } };
  assert.equal(s.required, undefined);
  assert.deepEqual(s.properties.channels.items.required, ['id', 'protocol']);
});

test('config.schema.json is a draft-07 schema a standard validator applies with the same verdicts as the server', async () => {
  const { Ajv } = await import('ajv');
  // strict mode: any keyword besides draft-07's and our four x- annotations would be an error
  const ajv = new Ajv({ strict: true, allErrors: false });
  ajv.addVocabulary(['x-env', 'x-live', 'x-secret', 'x-expected']);
  ajv.addFormat('host', isValidHost);
  const check = ajv.compile(JSON.parse(read(JSON_SCHEMA_FILE)) as object);
  assert.equal(check(parse(read(EXAMPLE_FILE))), true, JSON.stringify(check.errors));
  assert.equal(check({}), true, 'every key may be left out');
  assert.equal(check({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 5046 }] }), true);
  const rejected: unknown[] = [
    { colour: 'red' },
    { mqtt: { embedded: { port: 70000 } } },
    { channels: [{ id: 1, tcp_port: 1 }] },
    { channels: [{ id: 'a/b', protocol: 'ruptela', tcp_port: 1 }] },
    { channels: [{ id: 1, protocol: 'ruptela', host: '999.1.1.1', tcp_port: 1 }] },
    { log_level: 'loud' },
    { channels: [] },
  ];
  for (const raw of rejected) {
    assert.equal(check(raw), false, `editor accepts ${JSON.stringify(raw)}`);
    assert.throws(() => validateConfig(raw), /EDGE_CONFIG_INVALID/, `server accepts ${JSON.stringify(raw)}`);
  }
});

test('README "Per deployment, from the environment" names every EDGE_* variable the schema binds', () => {
  const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
  const para = /\*\*Per deployment, from the environment\.\*\*([\s\S]*?)They override/.exec(readme)?.[1] ?? '';
  const listed = [...para.matchAll(/`(EDGE_[A-Z_]+)`/g)].map((m) => m[1]);
  assert.deepEqual(listed, envBindings().map((b) => b.name));
});
