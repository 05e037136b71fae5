import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, EdgeError, toErrorInfo } from './errors.js';
import { CLOSE_CODES } from './net/close-codes.js';
import { projectRoot } from './util/paths.js';

const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  assert.ok(start >= 0, `README.md has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('README "Error codes" lists exactly the codes of src/errors.ts', () => {
  const documented = [...section('Error codes').matchAll(/^\| `(EDGE_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), Object.keys(ERROR_CODES).sort());
  assert.equal(new Set(documented).size, documented.length, 'a code is listed twice');
});

test('README "Close codes" lists exactly the close codes in use', () => {
  const documented = [...section('Close codes').matchAll(/^\| (-?\d+) \|/gm)].map((m) => Number(m[1]));
  assert.deepEqual([...documented].sort((a, b) => a - b), Object.values(CLOSE_CODES).sort((a, b) => a - b));
});

test('EdgeError survives the worker boundary as plain data', () => {
  const e = new EdgeError('EDGE_DECODE_CHECKSUM', 'CRC mismatch', 42);
  const info = structuredClone(e.toInfo());
  assert.deepEqual(info, { code: 'EDGE_DECODE_CHECKSUM', reason: 'CRC mismatch', offset: 42 });
  const back = EdgeError.fromInfo(info);
  assert.equal(back.code, 'EDGE_DECODE_CHECKSUM');
  assert.equal(back.offset, 42);
  assert.equal(back.message, 'EDGE_DECODE_CHECKSUM at byte 42: CRC mismatch');
  assert.deepEqual(toErrorInfo(new TypeError('boom')), { code: 'EDGE_DECODE_INTERNAL', reason: 'TypeError: boom' });
});
