#!/usr/bin/env node
// Writes the synthesised Ruptela remote-tacho session of fixtures/sessions/ (README there): a simulated
// device (frames it sends, `<` lines for what the server must send it), the card bridge's APDU table and
// the command request. Every byte is made here from the layouts in protocols/ruptela/ (no captured data):
// the "DDD file" is a pseudo-random body behind a generation-1 VU header (76 01), the card answers are
// made-up data + SW 9000. Run after a build: `node scripts/gen-tacho-session.js`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { default: ruptela } = await import(join(root, 'dist/protocols/ruptela/index.js'));
const { deviceFrame } = await import(join(root, 'dist/protocols/ruptela/device-frames.js'));
const { toHex, fromHex } = await import(join(root, 'dist/src/codec/hex.js'));

const IMEI = 868204004248349n; // the IMEI of the vendor tacho examples (V#8–V#10)
const hex = (b) => toHex(b);
let seed = 0x2545f491;
const rnd = (n) => Uint8Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);

const request = {
  id: 'tacho-demo-1',
  name: 'request_tachograph_file',
  properties: { source: 'vehicle_unit', atr: '3b9a96c01031fe5d0064057b01023180900076', mask: 0, from: 1362145803, to: 1368193799 },
  timeout: 300,
  meta: { ticket: 'DEMO-1', requested_by: 'replay' },
};
// a few steps of the company-card authentication: SELECT EF_ICC, READ BINARY, SELECT EF_Card_Certificate,
// READ BINARY, GET CHALLENGE; answers are data + SW1 SW2 (made up)
const card = [
  ['00a4020c020002', '9000'],
  ['00b0000019', hex(rnd(25)) + '9000'],
  ['00a4020c02c100', '9000'],
  ['00b00000c2', hex(rnd(194)) + '9000'],
  ['0084000008', hex(rnd(8)) + '9000'],
];
const file = new Uint8Array(2900);
file.set([0x76, 0x01]);
file.set(rnd(file.length - 2), 2);

const lines = [
  '# Ruptela remote tachograph download, simulated device (synthesised: scripts/gen-tacho-session.js).',
  '# Plain lines: frames the device sends (replay checks the reply the protocol prescribes);',
  '# "<" lines: frames the server must send on its own before the device goes on.',
  '# heartbeat (the device is online), then the request 110 sub 2 the command queue sends',
  hex(deviceFrame(IMEI, 16, new Uint8Array(0))),
  '<' + hex(ruptela.encode({ name: request.name, properties: request.properties }, {}).bytes),
  '# company-card exchange: cmd 10 (status 0, subId 3, packetStatus 1) and the relayed answer 110 sub 3',
];
for (const [apdu, answer] of card) {
  lines.push(hex(deviceFrame(IMEI, 10, fromHex('00000000' + '03010000' + apdu))));
  lines.push('<' + hex(ruptela.encode({ name: 'tacho_card_response', properties: { payload: answer } }, {}).bytes));
}
const u32 = (n) => n.toString(16).padStart(8, '0');
lines.push('# file announcement cmd 12 (flash, 2900 bytes, read time, period, CRC 0, index FFFF) and fragments cmd 11 from index 1');
lines.push(hex(deviceFrame(IMEI, 12, fromHex('01' + u32(file.length) + u32(1369386963) + u32(1362145803) + u32(1368193799) + '0000' + 'ffff'))));
for (let i = 0, off = 0; off < file.length; i++, off += 1009) {
  lines.push(hex(deviceFrame(IMEI, 11, fromHex((i + 1).toString(16).padStart(4, '0') + hex(file.subarray(off, off + 1009))))));
}
const dir = join(root, 'fixtures', 'sessions');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'ruptela-tacho-device.hex'), lines.join('\n') + '\n');
writeFileSync(
  join(dir, 'ruptela-tacho-card.tsv'),
  '# Simulated company card for the tacho card bridge (synthesised: scripts/gen-tacho-session.js)\napdu\tresponse\n' + card.map(([a, r]) => `${a}\t${r}`).join('\n') + '\n',
);
writeFileSync(join(dir, 'ruptela-tacho-request.json'), JSON.stringify(request, null, 2) + '\n');
console.log(`wrote ${dir}/ruptela-tacho-{device.hex,card.tsv,request.json}`);
