/**
 * The simulated dashcam (`edge-channel replay` with `fixtures/sessions/jt808-dashcam-dsm.json`, and
 * the end-to-end test): a terminal that registers, authenticates, raises a DSM alarm whose
 * identification announces its attachments, waits for the server's 0x9208, connects to the
 * attachment server it names and uploads every file: 0x1210, then per file 0x1211, the data chunks
 * in a seeded shuffled order (optionally one chunk withheld, optionally the connection dropped after
 * some chunks and the upload resumed on a new one), 0x1212, and the ranges 0x9212 asks for until the
 * result is 0. The report says what the server answered at each step and the files' sha256.
 */
import { createHash } from 'node:crypto';
import type { SimSocket, SimulationIo, SimulationReport } from '../../../src/protocol/types.js';
import { MSG } from '../constants.js';
import { SimStep, expectFrame, signIn } from '../sim-link.js';
import { DeviceFrames, shuffled, simulatedFile } from './device-frames.js';
import { chunkBytes, readUploadRequest, readUploadResult } from './layouts.js';
import type { IdentificationBytes } from './variants.js';

interface FileSpec {
  kind: 'image' | 'video';
  size: number;
  seed: number;
}

interface Params {
  terminal: { phone: string; terminal_id: string; version?: 2013 | 2019; timezone_offset_minutes?: number; alarm_identification_bytes?: IdentificationBytes };
  alarm: { time: number; alarm_id: number; type: number; level: number; lat: number; lon: number; speed_kmh: number; sequence: number };
  files: FileSpec[];
  chunk_bytes: number;
  shuffle_seed: number;
  /** 1-based file and 0-based chunk (in file order) not sent in the first pass. */
  withhold?: { file: number; chunk: number } | null;
  /** Close the attachment connection after this many chunks of that file, then resume on a new one. */
  drop?: { file: number; after_chunks: number } | null;
  timeout_ms?: number;
}

function ranges(size: number, chunk: number): [number, number][] {
  const out: [number, number][] = [];
  for (let o = 0; o < size; o += chunk) out.push([o, Math.min(chunk, size - o)]);
  return out;
}

export async function dashcamSimulation(raw: Readonly<Record<string, unknown>>, io: SimulationIo): Promise<SimulationReport> {
  const p = raw as unknown as Params;
  const timeoutMs = p.timeout_ms ?? 10_000;
  const idBytes = p.terminal.alarm_identification_bytes ?? 16;
  const dev = new DeviceFrames({ phone: p.terminal.phone, terminalId: p.terminal.terminal_id, version: p.terminal.version ?? 2013, tzOffsetMin: p.terminal.timezone_offset_minutes ?? 480, idBytes });
  const report: SimulationReport = { ok: false, ident: p.terminal.phone.replace(/^0+/, '') };
  const results: { file: string; result: number; missing: [number, number][] }[] = [];
  report.results = results;
  const sockets: SimSocket[] = [];
  try {
    const main = await io.connect(io.target.host, io.target.port);
    sockets.push(main);
    await signIn(main, dev, timeoutMs);
    io.log(`registered and authenticated as ${report.ident}`);

    const a = p.alarm;
    const identification = dev.identification(a.time, a.sequence, p.files.length);
    main.write(dev.dsmAlarm({ timeS: a.time, alarmId: a.alarm_id, type: a.type, level: a.level, lat: a.lat, lon: a.lon, speedKmh: a.speed_kmh, identification }));
    await expectFrame(main, MSG.platformGeneralResponse, timeoutMs, 'DSM alarm');
    const req = readUploadRequest(await expectFrame(main, MSG.attachmentUploadRequest, timeoutMs, 'DSM alarm with attachments'), idBytes);
    if (Buffer.compare(req.identification, identification) !== 0) throw new SimStep('0x9208 does not echo the alarm identification');
    const number = String.fromCharCode(...req.alarmNumber);
    const host = req.host === '0.0.0.0' || req.host === '::' ? io.target.host : req.host;
    report.alarm_number = number;
    report.attachment_server = `${host}:${req.tcpPort}`;
    io.log(`0x9208: upload to ${host}:${req.tcpPort}, alarm number ${number}`);

    const files = p.files.map((f, i) => {
      const ext = f.kind === 'image' ? 'jpg' : 'mp4';
      const name = `${f.kind === 'image' ? '00' : '02'}_65_6501_${i + 1}_${number}.${ext}`;
      const bytes = simulatedFile(f.kind, f.size, f.seed);
      return { name, type: f.kind === 'image' ? 0 : 2, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    });
    report.files = files.map((f) => ({ name: f.name, size: f.bytes.length, sha256: f.sha256 }));
    const list = files.map((f) => ({ name: f.name, size: f.bytes.length }));

    let att = await io.connect(host, req.tcpPort);
    sockets.push(att);
    att.write(dev.fileList(identification, req.alarmNumber, list));
    await expectFrame(att, MSG.platformGeneralResponse, timeoutMs, '0x1210 file list');

    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      att.write(dev.fileInfo(f.name, f.type, f.bytes.length));
      await expectFrame(att, MSG.platformGeneralResponse, timeoutMs, `0x1211 ${f.name}`);
      const all = ranges(f.bytes.length, p.chunk_bytes);
      const withheld = p.withhold && p.withhold.file === i + 1 ? all[p.withhold.chunk] : undefined;
      const order = shuffled(all, p.shuffle_seed + i).filter((r) => r !== withheld);
      let sent = 0;
      for (const [o, n] of order) {
        if (p.drop && p.drop.file === i + 1 && sent === p.drop.after_chunks) {
          // the connection drops mid-file: whatever was in flight may or may not be stored; the
          // resumed upload's 0x1212 answer says which ranges to send again
          await att.drain();
          att.close();
          io.log(`dropped the attachment connection after ${sent} chunk(s) of ${f.name}; resuming`);
          att = await io.connect(host, req.tcpPort);
          sockets.push(att);
          att.write(dev.fileList(identification, req.alarmNumber, list, true));
          await expectFrame(att, MSG.platformGeneralResponse, timeoutMs, '0x1210 after the drop');
          att.write(dev.fileInfo(f.name, f.type, f.bytes.length));
          await expectFrame(att, MSG.platformGeneralResponse, timeoutMs, `0x1211 ${f.name} after the drop`);
          report.resumed = true;
        }
        att.write(chunkBytes(f.name, o, f.bytes.subarray(o, o + n)));
        sent++;
      }
      for (let round = 0; ; round++) {
        att.write(dev.fileDone(f.name, f.type, f.bytes.length));
        const r = readUploadResult(await expectFrame(att, MSG.attachmentUploadResult, timeoutMs, `0x1212 ${f.name}`));
        results.push({ file: f.name, result: r.result, missing: r.missing });
        if (r.result === 0) break;
        if (round >= 3) throw new SimStep(`${f.name}: still incomplete after ${round + 1} resend rounds`);
        for (const [o, n] of r.missing) for (const [co, cn] of ranges(n, p.chunk_bytes)) att.write(chunkBytes(f.name, o + co, f.bytes.subarray(o + co, o + co + cn)));
        io.log(`${f.name}: resent ${r.missing.length} range(s)`);
      }
    }
    report.ok = true;
  } catch (e) {
    if (!(e instanceof SimStep)) throw e;
    report.problem = e.message;
  } finally {
    for (const s of sockets) s.close();
  }
  return report;
}
