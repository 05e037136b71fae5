import { dirname, resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import { getProtocol } from '../protocol/registry.js';
import { openTcpDevice, openUdpDevice, type DeviceClient } from '../replay/device-client.js';
import { planFrames, type PlannedFrame } from '../replay/frame-plan.js';
import { cutFrames } from '../net/cut-frames.js';
import { flagInt, flagStr, parseArgs } from './args.js';
import { readFileSync } from 'node:fs';
import { connectAsync } from 'mqtt';
import { makeTopics } from '../mqtt/topics.js';
import type { ProtocolModule } from '../protocol/types.js';
import type { CutFrame } from '../net/cut-frames.js';
import { readCardTable, startCardBridge } from '../replay/card-bridge.js';
import { readHexSource } from './hex-input.js';
import { simulationIo } from '../replay/sim-io.js';
import { protocolOptions } from './protocol-options.js';
import { protocolPart } from './protocol-part.js';

export const REPLAY_HELP = `edge-channel replay --protocol ID --to URL [FILE...] [options]

Acts as one or many devices: sends every frame of the given hex files (or stdin), waits for the
server's reply and checks it byte for byte against the reply the protocol prescribes (computed
by decoding the frame locally). Frames the local decoder rejects are not sent unless
--send-invalid is given (then the server must NOT acknowledge them).

Options:
  --protocol ID     protocol module id (e.g. ruptela); required
  --to URL          tcp://host:port or udp://host:port of the channel; required
  --devices N       simulated devices in parallel (default 1); with N > 1 each device gets its own
                    ident written into the frames (protocols that support it)
  --rate R          total frames per second across all devices (default 0 = as fast as ACKs allow)
  --repeat K        send the file K times per device (default 1)
  --timeout MS      wait this long for each reply (default 5000)
  --send-invalid    also send frames that fail local decoding
  --options JSON    the channel's protocol options, so the local decode prescribes the same replies
                    (e.g. '{"auth_code":"derived"}' for a recorded jt808 registration)
  --part ID         replay to one of the protocol family's further listeners (jt808: attachments,
                    the alarm attachment port): its framing and decoder prescribe the replies; answers
                    the server computes from its own state (0x9212's missing ranges) are not prescribed
  --mqtt URL        the server's MQTT broker, for the two options below
  --root ROOT       the server's mqtt.topic_root (default edge)
  --channel ID      the channel id in topics (default 1)
  --command FILE    publish this JSON command request for the session's device before it starts
                    (e.g. fixtures/sessions/ruptela-tacho-request.json)
  --card-bridge FILE  act as the tacho card bridge, answering APDUs from this apdu<TAB>response table
                    (e.g. fixtures/sessions/ruptela-tacho-card.tsv)
  --json            print the summary as JSON
  --help            this text

Session files may hold lines starting with "<": bytes the server sends on its own (a command, a
relayed card answer); the device waits for them, byte for byte, before it sends the next frame.

A session file (FILE ending in .json, e.g. fixtures/sessions/jt808-dashcam-dsm.json) names one of
the protocol's simulations instead ("simulation": "dashcam"): a simulated device that reacts to
what the server sends (the dashcam uploads its alarm's photos and video to the attachment server
0x9208 names). It prints its steps and a report; exit 0 when the report says ok.

Progress: a bar on a terminal, a plain line every 2 s otherwise. When the server goes away (a
device cannot reconnect) or on Ctrl-C, the summary of what was sent so far is printed with the
reason ("aborted"). Exit status 0 when every frame was sent and acknowledged exactly, 1 otherwise,
2 on usage errors.`;

interface Stats {
  sent: number;
  acked: number;
  noReplyExpected: number;
  mismatched: number;
  rejected: number;
  invalidSkipped: number;
  invalidRejected: number;
  invalidAcked: number;
  latencies: number[];
  /** `<` lines of a session file the server sent as expected. */
  serverReceived: number;
  firstProblem: string | null;
  /** Why the run ended early (a device could not connect, or SIGINT); null when it ran to the end. */
  aborted: string | null;
  abortedDevices: number;
}

export async function replayCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { protocol: 'value', to: 'value', devices: 'value', rate: 'value', repeat: 'value', timeout: 'value', options: 'value', 'send-invalid': 'flag', json: 'flag', help: 'flag', mqtt: 'value', root: 'value', channel: 'value', command: 'value', 'card-bridge': 'value', part: 'value' });
  if (args.flags.has('help')) {
    process.stdout.write(REPLAY_HELP + '\n');
    return 0;
  }
  const protocolId = flagStr(args, 'protocol');
  const to = flagStr(args, 'to');
  if (!protocolId || !to) throw new EdgeError('EDGE_CLI_USAGE', 'replay needs --protocol ID and --to tcp://host:port (see --help)');
  const { transport, host, port } = parseTarget(to);
  const proto = protocolPart(await getProtocol(protocolId), flagStr(args, 'part'));
  const devices = flagInt(args, 'devices', 1, 1);
  const rate = flagInt(args, 'rate', 0, 0);
  const repeat = flagInt(args, 'repeat', 1, 1);
  const timeoutMs = flagInt(args, 'timeout', 5000, 1);
  const sendInvalid = args.flags.has('send-invalid');
  const options = protocolOptions(proto, flagStr(args, 'options'));
  const files = args.positionals.length ? args.positionals : ['-'];
  if (files.length === 1 && files[0]!.endsWith('.json')) return runSession(proto, files[0]!, transport, host, port, args.flags.has('json'));
  const lines = files.flatMap((f) => readHexSource(f));
  const cut = [...cutFrames(proto, lines, transport)];
  if (cut.length === 0) throw new EdgeError('EDGE_CLI_USAGE', 'no frames in the input');

  const mqttUrl = flagStr(args, 'mqtt');
  const commandFile = flagStr(args, 'command');
  const bridgeFile = flagStr(args, 'card-bridge');
  if ((commandFile || bridgeFile) && !mqttUrl) throw new EdgeError('EDGE_CLI_USAGE', '--command and --card-bridge need --mqtt URL (the server\'s broker)');
  const root = flagStr(args, 'root') ?? 'edge';
  const helpers = mqttUrl ? await startSessionHelpers(proto, cut, { url: mqttUrl, root, channel: flagStr(args, 'channel') ?? '1', commandFile, bridgeFile }) : null;

  const stats: Stats = { sent: 0, acked: 0, noReplyExpected: 0, mismatched: 0, rejected: 0, invalidSkipped: 0, invalidRejected: 0, invalidAcked: 0, latencies: [], serverReceived: 0, firstProblem: null, aborted: null, abortedDevices: 0 };
  const total = cut.filter((f) => !f.server).length * devices * repeat;
  const t0 = performance.now();
  const progress = startProgress(stats, total);
  // Pacing: every device takes the next send slot from one shared clock.
  let nextSlot = performance.now();
  const pace = async () => {
    if (rate <= 0) return;
    const slot = nextSlot;
    nextSlot = Math.max(nextSlot, performance.now()) + 1000 / rate;
    const wait = slot - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  // The server may go away mid-run: a device that cannot (re)connect stops, the others go on, and
  // the summary of what was sent so far is printed with the reason (exit 1), never lost.
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    stats.aborted ??= 'interrupted';
  };
  process.once('SIGINT', onInterrupt);
  const runDevice = async (i: number) => {
    const ident = devices > 1 ? String(860000000000000 + i) : undefined;
    const plan = planFrames(proto, cut, transport, ident, options);
    let client: DeviceClient | null = null;
    try {
      for (let k = 0; k < repeat; k++) {
        for (const f of plan) {
          if (interrupted) return;
          if (f.invalid && !sendInvalid) {
            stats.invalidSkipped++;
            continue;
          }
          if (!client || client.closed) {
            try {
              client = transport === 'tcp' ? await openTcpDevice(host, port) : await openUdpDevice(host, port);
            } catch (e) {
              stats.aborted ??= `cannot connect to ${to}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
              stats.abortedDevices++;
              return;
            }
          }
          if (f.server) {
            // bytes the server sends unasked (a command, a relayed answer): wait for them, send nothing
            const o = await client.receive(f.bytes, timeoutMs);
            if (o.kind === 'acked') stats.serverReceived++;
            else if (o.kind === 'mismatch') {
              stats.mismatched++;
              stats.firstProblem ??= `expected the server to send ${Buffer.from(f.bytes).toString('hex')}, got ${o.got}`;
            } else {
              stats.rejected++;
              stats.firstProblem ??= `expected the server to send ${Buffer.from(f.bytes).toString('hex')}: ${o.reason}`;
            }
            continue;
          }
          await pace();
          stats.sent++;
          await account(stats, f, await client.send(f.bytes, f.invalid ? null : f.expected, timeoutMs), client, transport, timeoutMs);
        }
      }
    } finally {
      client?.close();
    }
  };
  try {
    await Promise.all(Array.from({ length: devices }, (_, i) => runDevice(i)));
  } finally {
    process.off('SIGINT', onInterrupt);
    progress.stop();
    await helpers?.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const lat = stats.latencies.sort((a, b) => a - b);
  const pct = (p: number) => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 100) / 100 : null);
  const summary = {
    protocol: proto.id, to, devices, frames_per_device: cut.filter((f) => !f.server).length * repeat,
    sent: stats.sent, acked: stats.acked, server_frames_received: stats.serverReceived || null, no_reply_expected: stats.noReplyExpected, mismatched: stats.mismatched, rejected: stats.rejected,
    invalid_not_sent: stats.invalidSkipped, invalid_rejected_as_expected: stats.invalidRejected, invalid_but_acked: stats.invalidAcked,
    seconds: Math.round(seconds * 1000) / 1000, frames_per_s: Math.round(stats.sent / seconds), latency_ms_p50: pct(0.5), latency_ms_p99: pct(0.99),
    first_problem: stats.firstProblem,
    aborted: stats.aborted, aborted_devices: stats.abortedDevices || null,
  };
  if (args.flags.has('json')) process.stdout.write(JSON.stringify(summary) + '\n');
  else {
    for (const [k, v] of Object.entries(summary)) if (v !== null) process.stdout.write(`${k.padEnd(30)} ${v}\n`);
  }
  return stats.mismatched + stats.rejected + stats.invalidAcked > 0 || stats.aborted !== null ? 1 : 0;
}

/** `--to` as tcp://host:port or udp://host:port (IPv6 in brackets); anything else is a usage error. */
export function parseTarget(to: string): { transport: 'tcp' | 'udp'; host: string; port: number } {
  const bad = () => new EdgeError('EDGE_CLI_USAGE', `--to expects tcp://host:port or udp://host:port (port 1..65535), got "${to}"`);
  let u: URL;
  try {
    u = new URL(to);
  } catch {
    throw bad();
  }
  if ((u.protocol !== 'tcp:' && u.protocol !== 'udp:') || !u.hostname || !u.port || u.username || u.password || u.search || u.hash || (u.pathname !== '' && u.pathname !== '/')) throw bad();
  return { transport: u.protocol === 'tcp:' ? 'tcp' : 'udp', host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}

async function account(stats: Stats, f: PlannedFrame, o: Awaited<ReturnType<DeviceClient['send']>>, client: DeviceClient, transport: string, timeoutMs: number): Promise<void> {
  if (f.invalid) {
    // A bad frame must get no reply: on TCP the server closes; on UDP it stays silent.
    if (transport === 'tcp') {
      const deadline = performance.now() + timeoutMs;
      while (!client.closed && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    }
    if (client.closed || transport === 'udp') stats.invalidRejected++;
    else {
      stats.invalidAcked++;
      stats.firstProblem ??= `invalid frame (${f.invalid.code}) was not rejected`;
    }
    return;
  }
  if (o.kind === 'acked') {
    if (f.expected && f.expected.length) {
      stats.acked++;
      stats.latencies.push(o.latencyMs);
    } else stats.noReplyExpected++;
  } else if (o.kind === 'mismatch') {
    stats.mismatched++;
    stats.firstProblem ??= `expected reply ${Buffer.from(f.expected ?? []).toString('hex')}, got ${o.got}`;
  } else {
    stats.rejected++;
    stats.firstProblem ??= o.reason;
  }
}

function startProgress(stats: Stats, total: number): { stop(): void } {
  const tty = process.stderr.isTTY;
  const draw = () => {
    const done = stats.sent + stats.invalidSkipped;
    if (tty) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} acked ${stats.acked} rejected ${stats.rejected} mismatched ${stats.mismatched}`);
    } else process.stderr.write(`progress ${done}/${total} acked=${stats.acked} rejected=${stats.rejected} mismatched=${stats.mismatched}\n`);
  };
  const timer = setInterval(draw, tty ? 100 : 2000);
  return {
    stop() {
      clearInterval(timer);
      if (tty) {
        draw();
        process.stderr.write('\n');
      }
    },
  };
}

/** A scripted session: the protocol's simulation named by the file, against `--to`. */
async function runSession(proto: ProtocolModule, file: string, transport: 'tcp' | 'udp', host: string, port: number, json: boolean): Promise<number> {
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new EdgeError('EDGE_CLI_USAGE', `cannot read the session file ${file}: ${(e as Error).message}`);
  }
  const name = params.simulation;
  const sim = typeof name === 'string' ? proto.simulations?.[name] : undefined;
  if (!sim) throw new EdgeError('EDGE_CLI_USAGE', `${file} names simulation ${JSON.stringify(name)}, which protocol ${proto.id} does not have (it has: ${Object.keys(proto.simulations ?? {}).join(', ') || 'none'})`);
  if (transport !== 'tcp') throw new EdgeError('EDGE_CLI_USAGE', 'session simulations run over tcp://');
  const report = await sim(params, simulationIo({ host, port }, (line) => process.stderr.write(line + '\n'), dirname(resolve(file))));
  process.stdout.write(json ? JSON.stringify(report) + '\n' : JSON.stringify(report, null, 2) + '\n');
  return report.ok ? 0 : 1;
}

/**
 * `--command` and `--card-bridge`: publish the session's command request for the device (its ident is
 * what the session's first frame carries) and answer card APDUs from a table, on the server's broker.
 */
async function startSessionHelpers(proto: ProtocolModule, cut: CutFrame[], o: { url: string; root: string; channel: string; commandFile: string | undefined; bridgeFile: string | undefined }): Promise<{ close(): Promise<void> }> {
  const bridge = o.bridgeFile ? await startCardBridge({ url: o.url, root: o.root, answers: readCardTable(o.bridgeFile) }) : null;
  if (o.commandFile) {
    let request: string;
    try {
      request = readFileSync(o.commandFile, 'utf8');
      JSON.parse(request);
    } catch (e) {
      throw new EdgeError('EDGE_CLI_USAGE', `--command ${o.commandFile}: ${(e as Error).message}`);
    }
    const first = cut.find((f) => !f.server && !f.invalid);
    const ident = first ? proto.decode(first.bytes, { transport: 'tcp', session: {}, receivedAtMs: 0, options: proto.defaultOptions }).session?.ident : undefined;
    if (!ident) throw new EdgeError('EDGE_CLI_USAGE', '--command: the session\'s first frame carries no device ident');
    const client = await connectAsync(o.url, { clientId: `replay-${process.pid}`, clean: true });
    await client.publishAsync(makeTopics(o.root).commandRequest(o.channel, String(ident)), request, { qos: 1 });
    await client.endAsync();
  }
  return { close: async () => void (await bridge?.close()) };
}
