/**
 * The simulated FMB tracker (`edge-channel replay` with `fixtures/sessions/teltonika-fmb.json`, and
 * the end-to-end test): logs in with its IMEI, sends `packets` Codec 8E AVL packets of
 * `records_per_packet` records along a straight track and checks each 4-byte ACK carries the
 * record count; then answers each Codec 12 command with the response `responses` gives for its
 * text (default "OK") until no command came for `listen_ms`. The report lists ACKs and commands.
 */
import type { SimSocket, SimulationIo, SimulationReport } from '../../src/protocol/types.js';
import { GPRS_TYPE, TCP_HEADER_BYTES } from './constants.js';
import { codec12Response, loginFrame, serverSplit, tcpAvlFrame, type SimRecord } from './device-frames.js';

interface Params {
  imei: string;
  packets: number;
  records_per_packet: number;
  start_time: number;
  interval_s: number;
  start: { lat: number; lon: number };
  listen_ms?: number;
  responses?: Record<string, string>;
  timeout_ms?: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function records(p: Params, packet: number): SimRecord[] {
  const out: SimRecord[] = [];
  for (let i = 0; i < p.records_per_packet; i++) {
    const k = packet * p.records_per_packet + i;
    out.push({ timeMs: (p.start_time + k * p.interval_s) * 1000, lat: p.start.lat + k * 0.0001, lon: p.start.lon + k * 0.0001, speedKmh: 40 + (k % 20), odometerM: 1000 + k * 25 });
  }
  return out;
}

/** The text of a Codec 12/14 command frame (type 0x05), or null for anything else. */
function commandText(f: Uint8Array): string | null {
  if (f.length < 20 || f[TCP_HEADER_BYTES + 2] !== GPRS_TYPE.command) return null;
  const size = new DataView(f.buffer, f.byteOffset + TCP_HEADER_BYTES + 3, 4).getUint32(0);
  const skip = f[TCP_HEADER_BYTES] === 0x0e ? 8 : 0;
  return Buffer.from(f.subarray(TCP_HEADER_BYTES + 7 + skip, TCP_HEADER_BYTES + 7 + size)).toString('latin1');
}

export async function fmbSimulation(raw: Readonly<Record<string, unknown>>, io: SimulationIo): Promise<SimulationReport> {
  const p = raw as unknown as Params;
  const timeoutMs = p.timeout_ms ?? 10000;
  const report: SimulationReport & { ident: string; acks: string[]; commands: { text: string; response: string }[]; error?: string } = { ok: false, ident: p.imei, acks: [], commands: [] };
  let s: SimSocket | null = null;
  try {
    s = await io.connect(io.target.host, io.target.port);
    s.write(loginFrame(p.imei));
    const answer = await s.nextFrame(serverSplit(true), timeoutMs);
    if (answer === null || hex(answer) !== '01') throw new Error(`login answered ${answer ? hex(answer) : 'nothing'}, expected 01`);
    io.log(`logged in as ${p.imei}`);
    const split = serverSplit(false);
    const answer12 = (f: Uint8Array): void => {
      const text = commandText(f);
      if (text === null) throw new Error(`unexpected server frame ${hex(f)}`);
      const response = p.responses?.[text] ?? 'OK';
      s!.write(codec12Response(response));
      report.commands.push({ text, response });
      io.log(`command "${text}" answered "${response}"`);
    };
    for (let k = 0; k < p.packets; k++) {
      s.write(tcpAvlFrame(records(p, k)));
      let ack = await s.nextFrame(split, timeoutMs);
      // a command may come between two packets' ACKs (the server writes it after an ACK sequence)
      while (ack !== null && ack.length > 4) {
        answer12(ack);
        ack = await s.nextFrame(split, timeoutMs);
      }
      const want = p.records_per_packet.toString(16).padStart(8, '0');
      if (ack === null || hex(ack) !== want) throw new Error(`packet ${k + 1}: ACK ${ack ? hex(ack) : 'missing'}, expected ${want}`);
      report.acks.push(hex(ack));
    }
    io.log(`${p.packets} packet(s) acknowledged`);
    // commands come while the link is open; none within listen_ms ends the session
    for (;;) {
      if ((p.listen_ms ?? 0) <= 0) break;
      const f = await s.nextFrame(split, p.listen_ms!);
      if (f === null) break;
      answer12(f);
    }
    report.ok = true;
  } catch (e) {
    report.error = e instanceof Error ? e.message : String(e);
  } finally {
    s?.close();
  }
  return report;
}
