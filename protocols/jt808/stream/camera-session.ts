/**
 * The simulated JT/T 1078 camera (`edge-channel replay` with `fixtures/sessions/jt1078-camera.json`,
 * and the video tests): a terminal that registers and authenticates on the main link, then does
 * what the server asks, as a dashcam does:
 *   - 0x9101 (live): answers 0x0001, connects to the address it names and streams a real encoded clip
 *     (H.264 or H.265 Annex B from `fixtures/video/`) paced at its frame rate, looping, with
 *     timestamps that keep growing, until 0x9102 closes it, the server closes the socket, or
 *     `max_live_s`;
 *   - 0x9201 (playback): answers 0x0001, connects and streams the clip once, timestamps from the
 *     requested start, then hangs up (the end of a recording);
 *   - 0x9102: answers 0x0001 and stops that channel's stream.
 * Field trouble on request: lost packets, reordered packets, a hang-up after K packets of a stream.
 * The report lists each stream with what was sent.
 */
import type { SimSocket, SimulationIo, SimulationReport } from '../../../src/protocol/types.js';
import { splitAccessUnits } from '../../../src/video/annexb.js';
import { DeviceFrames } from '../attachments/device-frames.js';
import { MSG } from '../constants.js';
import { parseCommand } from '../encoder.js';
import { SimStep, serverMessage, signIn } from '../sim-link.js';
import { split } from '../splitter.js';
import { simulateCamera, type CameraSimOptions } from './camera-sim.js';

interface Params {
  terminal: { phone: string; terminal_id: string; version?: 2013 | 2019; timezone_offset_minutes?: number };
  /** The clip, Annex B (relative to the session file or the project root). */
  clip: string;
  codec: 'h264' | 'h265';
  fps: number;
  /** Streams to serve before the simulation ends (default 1). */
  streams?: number;
  loss?: CameraSimOptions['loss'] | null;
  reorder?: CameraSimOptions['reorder'] | null;
  /** Hang up each stream after this many packets (a camera that stops mid-clip). */
  hang_up_after_packets?: number | null;
  /** A live stream ends after this long even if nobody closes it (default 60 s). */
  max_live_s?: number;
  /** Waiting for the server's next request (default 15 s). */
  timeout_ms?: number;
  /** The main link stays open this long after the last stream (default 3000 ms): a camera does not hang up its main link when a clip is sent, and the server ends the command only once the clip is stored. */
  linger_ms?: number;
}

interface StreamReport {
  kind: 'live' | 'playback';
  channel: number;
  server: string;
  packets: number;
  lost: number;
  frames: number;
  ended: string;
}

function generalAck(dev: DeviceFrames, serial: number, msgId: number, result = 0): Uint8Array {
  return dev.frame(MSG.terminalGeneralResponse, Uint8Array.of(serial >> 8, serial & 0xff, msgId >> 8, msgId & 0xff, result));
}

export async function cameraSimulation(raw: Readonly<Record<string, unknown>>, io: SimulationIo): Promise<SimulationReport> {
  const p = raw as unknown as Params;
  const timeoutMs = p.timeout_ms ?? 15_000;
  const dev = new DeviceFrames({ phone: p.terminal.phone, terminalId: p.terminal.terminal_id, version: p.terminal.version ?? 2013, tzOffsetMin: p.terminal.timezone_offset_minutes ?? 480, idBytes: 16 });
  const ident = p.terminal.phone.replace(/^0+/, '');
  const streams: StreamReport[] = [];
  const report: SimulationReport = { ok: false, ident, streams };
  const units = splitAccessUnits(p.codec, await io.readFile(p.clip)).map((u) => ({ data: u.data, keyframe: u.keyframe }));
  const frameMs = 1000 / p.fps;
  const stopped = new Set<number>();
  let main: SimSocket | null = null;
  const open: SimSocket[] = [];
  try {
    main = await io.connect(io.target.host, io.target.port);
    await signIn(main, dev, timeoutMs);
    io.log(`registered and authenticated as ${ident}`);

    // the camera's clock for live streams: continuous across loops and streams
    let liveClockMs = 1_700_000_000_000;
    const running: Promise<void>[] = [];
    const want = p.streams ?? 1;
    let served = 0;
    while (served < want) {
      const f = await main.nextFrame(split, timeoutMs);
      if (!f) throw new SimStep(`waiting for a stream request: ${main.closed ? 'connection closed' : `nothing within ${timeoutMs} ms`}`);
      const m = serverMessage(f);
      if (m.msgId !== MSG.liveVideoRequest && m.msgId !== MSG.playbackRequest && m.msgId !== MSG.liveVideoControl) continue;
      const cmd = parseCommand(f);
      const props = cmd.properties as Record<string, number | string>;
      main.write(generalAck(dev, m.serial, m.msgId));
      const channel = props.channel as number;
      if (m.msgId === MSG.liveVideoControl) {
        if ((props.control ?? 0) === 0) stopped.add(channel);
        io.log(`0x9102 channel ${channel} control ${props.control}`);
        continue;
      }
      served++;
      stopped.delete(channel);
      const kind = m.msgId === MSG.liveVideoRequest ? 'live' : 'playback';
      const host = props.server_ip === '0.0.0.0' || props.server_ip === '::' ? io.target.host : String(props.server_ip);
      const port = props.tcp_port as number;
      io.log(`${kind} request: channel ${channel} to ${host}:${port}`);
      const sock = await io.connect(host, port);
      open.push(sock);
      const entry: StreamReport = { kind, channel, server: `${host}:${port}`, packets: 0, lost: 0, frames: 0, ended: '' };
      streams.push(entry);
      const startMs = kind === 'playback' ? (props.start as number) * 1000 : liveClockMs;
      running.push(
        (async () => {
          let t = startMs;
          let seq = 0;
          let sentTotal = 0;
          const deadline = kind === 'live' ? (p.max_live_s ?? 60) * 1000 : Infinity;
          let elapsed = 0;
          for (let loop = 0; ; loop++) {
            const out = simulateCamera({
              sim: p.terminal.phone,
              simWidth: (p.terminal.version ?? 2013) === 2019 ? 10 : 6,
              channel,
              video: { codec: p.codec, accessUnits: units, fps: p.fps },
              startSeq: seq,
              startTimestampMs: t,
              ...(p.loss ? { loss: p.loss } : {}),
              ...(p.reorder ? { reorder: p.reorder } : {}),
            });
            seq = (seq + out.generated) & 0xffff;
            entry.lost += out.lostSeqs.length;
            // pace per frame: the packets of one timestamp go out together
            let i = 0;
            while (i < out.packets.length) {
              const ts = out.packets[i]!.timestampMs;
              while (i < out.packets.length && out.packets[i]!.timestampMs === ts) {
                if (p.hang_up_after_packets != null && sentTotal >= p.hang_up_after_packets) {
                  entry.ended = `hung up after ${sentTotal} packets`;
                  await sock.drain();
                  sock.close();
                  return;
                }
                sock.write(out.bytes[i]!);
                sentTotal++;
                entry.packets++;
                i++;
              }
              entry.frames++;
              await io.sleep(frameMs);
              elapsed += frameMs;
              if (sock.closed) {
                entry.ended = 'closed by the server';
                return;
              }
              if (stopped.has(channel)) {
                entry.ended = 'stopped by 0x9102';
                sock.close();
                return;
              }
              if (elapsed >= deadline) {
                entry.ended = `max_live_s ${p.max_live_s ?? 60} reached`;
                sock.close();
                return;
              }
            }
            t += units.length * frameMs;
            if (kind === 'live') liveClockMs = t;
            if (kind === 'playback') {
              entry.ended = 'end of the recording';
              await sock.drain();
              sock.close();
              return;
            }
          }
        })(),
      );
    }
    await Promise.all(running);
    await io.sleep(p.linger_ms ?? 3000);
    report.ok = true;
  } catch (e) {
    report.error = e instanceof SimStep ? e.message : `${(e as Error).name}: ${(e as Error).message}`;
  } finally {
    for (const s of open) s.close();
    main?.close();
  }
  return report;
}
