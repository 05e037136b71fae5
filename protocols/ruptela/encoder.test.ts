import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../../src/codec/hex.js';
import { EdgeError, type ErrorCode } from '../../src/errors.js';
import type { CommandRequest } from '../../src/protocol/types.js';
import { projectRoot } from '../../src/util/paths.js';
import { FIXED_REPLY_HEX } from './constants.js';
import ruptela from './index.js';

const isCode = (code: ErrorCode, text?: string) => (e: unknown) =>
  e instanceof EdgeError && e.code === code && (text === undefined || e.message.includes(text));

const vendorRow = (id: number): string => {
  const tsv = readFileSync(join(projectRoot(), 'protocols', 'ruptela', 'fixtures', 'ruptela-vendor.tsv'), 'utf8');
  const row = tsv.split('\n').find((l) => l.startsWith(`${id}\t`));
  assert.ok(row);
  return row.split('\t')[1]!;
};

test('Traccar encoder examples from ref §5.2 are byte-exact', () => {
  const cases: [CommandRequest, string][] = [
    [{ name: 'set_odometer', properties: { value: 1000 } }, '00056a000003e8ac35'],
    [{ name: 'set_io', properties: { id: 1, value: 1 } }, '0009750000000100000001861b'],
    [{ name: 'text', properties: { text: 'pass immobilizer 10' } }, '00146c7061737320696d6d6f62696c697a6572203130bc22'],
    [{ name: 'text', properties: { text: 'pass resetimmob' } }, '00106c70617373207265736574696d6d6f62ee1f'],
    [{ name: 'firmware', properties: { text: '|FU_STRT*\r\n' } }, '000c687c46555f535452542a0d0ab66b'],
    [{ name: 'configuration', properties: { line: '#cfg_start@\r\n' } }, '000e66236366675f7374617274400d0a0947'],
  ];
  for (const [cmd, hex] of cases) assert.equal(toHex(ruptela.encode(cmd, {}).bytes), hex, cmd.name);
});

test('parseCommand mirrors encode for every command', () => {
  const samples: CommandRequest[] = [
    { name: 'configuration', properties: { line: 'setcfg 1' } },
    { name: 'get_version', properties: {} },
    { name: 'firmware', properties: { text: '|FU_STRT*' } },
    { name: 'set_connection', properties: { host: 'gw.example.com', port: 5046, protocol: 'UDP' } },
    { name: 'set_odometer', properties: { value: 0xffffffff } },
    { name: 'text', properties: { text: 'getio' } },
    { name: 'set_io', properties: { id: 65, value: 123456 } },
    { name: 'request_tachograph_file', properties: { source: 'driver_2', atr: '3b9a96c01031fe5d0064057b01023180900076', mask: 0x38, from: 0, to: 0xffffffff } },
    { name: 'tacho_card_response', properties: { payload: '0102039000', sub_id: 3 } },
  ];
  assert.deepEqual(samples.map((s) => s.name).sort(), ruptela.commands.map((c) => c.name).sort());
  for (const s of samples) {
    const enc = ruptela.encode(s, {});
    assert.equal(enc.replyKey, ruptela.commands.find((c) => c.name === s.name)!.replyKey);
    assert.deepEqual(ruptela.parseCommand(enc.bytes), s);
    assert.equal(((enc.bytes[0]! << 8) | enc.bytes[1]!) + 4, enc.bytes.length);
  }
});

test('unknown commands and invalid properties are typed errors naming the problem', () => {
  assert.throws(() => ruptela.encode({ name: 'reboot', properties: {} }, {}), isCode('EDGE_COMMAND_UNKNOWN', 'reboot'));
  const bad: [CommandRequest, string][] = [
    [{ name: 'set_io', properties: { id: 1 } }, '"value"'],
    [{ name: 'set_io', properties: { id: -1, value: 0 } }, '"id"'],
    [{ name: 'set_io', properties: { id: 1, value: 2 ** 32 } }, '"value"'],
    [{ name: 'set_io', properties: { id: 1.5, value: 0 } }, '"id"'],
    [{ name: 'set_io', properties: { id: 1, value: 1, extra: true } }, '"extra"'],
    [{ name: 'set_connection', properties: { host: 'a,b', port: 1, protocol: 'TCP' } }, '"host"'],
    [{ name: 'set_connection', properties: { host: 'a', port: 70000, protocol: 'TCP' } }, '"port"'],
    [{ name: 'set_connection', properties: { host: 'a', port: 1, protocol: 'SCTP' } }, '"protocol"'],
    [{ name: 'text', properties: { text: '' } }, '"text"'],
    [{ name: 'text', properties: { text: 'čau' } }, '"text"'],
    [{ name: 'text', properties: { text: 'x'.repeat(1020) } }, 'exceeds'],
    [{ name: 'configuration', properties: { line: 5 } }, '"line"'],
  ];
  for (const [cmd, text] of bad) assert.throws(() => ruptela.encode(cmd, {}), isCode('EDGE_COMMAND_INVALID', text), JSON.stringify(cmd));
  assert.equal(ruptela.encode({ name: 'text', properties: { text: 'x'.repeat(1019) } }, {}).bytes.length, 1024);
});

test('parseCommand rejects broken server frames (V#11) and commands it does not encode (V#27)', () => {
  assert.throws(() => ruptela.parseCommand(fromHex(vendorRow(11))), isCode('EDGE_FRAME_LENGTH'));
  assert.throws(() => ruptela.parseCommand(fromHex(vendorRow(27))), isCode('EDGE_COMMAND_UNKNOWN'));
  assert.throws(() => ruptela.parseCommand(fromHex('00016717b8')), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_CHECKSUM' && e.offset === 3);
});

test('fixed ACK frames equal the vendor rows', () => {
  assert.equal(FIXED_REPLY_HEX.recordsAck, vendorRow(27));
  assert.equal(FIXED_REPLY_HEX.identificationAck, vendorRow(29));
  assert.equal(FIXED_REPLY_HEX.heartbeatAck, vendorRow(31));
  assert.equal(FIXED_REPLY_HEX.dtcAck, vendorRow(32));
});
