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
    { name: 'custom', properties: { data: '890100000000007fffffff' } },
  ];
  assert.deepEqual(samples.map((s) => s.name).sort(), ruptela.commands.map((c) => c.name).sort());
  for (const s of samples) {
    const enc = ruptela.encode(s, {});
    // custom's reply key depends on its properties (tested below)
    if (s.name !== 'custom') assert.equal(enc.replyKey, ruptela.commands.find((c) => c.name === s.name)!.replyKey);
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

test('parseCommand rejects broken server frames (V#11); a server frame of no named command (V#27, the records ACK) is the raw custom form', () => {
  assert.throws(() => ruptela.parseCommand(fromHex(vendorRow(11))), isCode('EDGE_FRAME_LENGTH'));
  assert.deepEqual(ruptela.parseCommand(fromHex(vendorRow(27))), { name: 'custom', properties: { data: '6401' } });
  assert.throws(() => ruptela.parseCommand(fromHex('00016717b8')), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_CHECKSUM' && e.offset === 3);
});

test('fixed ACK frames equal the vendor rows', () => {
  assert.equal(FIXED_REPLY_HEX.recordsAck, vendorRow(27));
  assert.equal(FIXED_REPLY_HEX.identificationAck, vendorRow(29));
  assert.equal(FIXED_REPLY_HEX.heartbeatAck, vendorRow(31));
  assert.equal(FIXED_REPLY_HEX.dtcAck, vendorRow(32));
});

test('custom: text is cmd 108 (answered by 7), data is a raw frame body with length and CRC added (Traccar T#18), reply_cmd names the answer', () => {
  const text = ruptela.encode({ name: 'custom', properties: { text: 'pass resetimmob' } }, {});
  assert.equal(toHex(text.bytes), '00106c70617373207265736574696d6d6f62ee1f'); // the same bytes as the `text` command (Traccar example)
  assert.equal(text.replyKey, 'ruptela:7');
  const raw = ruptela.encode({ name: 'custom', properties: { data: '890100000000007FFFFFFF', reply_cmd: 37 } }, {});
  assert.equal(toHex(raw.bytes), '000b890100000000007fffffff89f0');
  assert.equal(raw.replyKey, 'ruptela:37');
  assert.equal(ruptela.encode({ name: 'custom', properties: { data: '8901' } }, {}).replyKey, null);
  // a raw body that is a known command parses back as that command (same bytes)
  assert.deepEqual(ruptela.parseCommand(ruptela.encode({ name: 'custom', properties: { data: '67' } }, {}).bytes), { name: 'get_version', properties: {} });
  for (const props of [{}, { text: 'a', data: '00' }, { data: 'xyz' }, { data: '' }, { text: 'a', reply_cmd: 7 }, { data: '00'.repeat(1020) }]) {
    assert.throws(() => ruptela.encode({ name: 'custom', properties: props }, {}), isCode('EDGE_COMMAND_INVALID'), JSON.stringify(props).slice(0, 60));
  }
});
