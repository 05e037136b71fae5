/**
 * ffmpeg as a streaming converter for what browsers cannot play: H.265 video (→ H.264 Annex B) and
 * G.711A/U or G.726 audio (→ AAC in ADTS). One child process per stream; bytes in on stdin, bytes out
 * on stdout, as they come (low-latency settings: no B-frames, no lookahead, a 32-byte probe so the
 * first picture is not held back for stream analysis).
 *
 * Why a process and not a library: ffmpeg is what CI and deployments install anyway, and it keeps
 * codec crashes out of the server process. Its cost is a pipe to bound: the input backlog
 * (`maxBufferedBytes`) is checked on every write, so a stuck or slow ffmpeg becomes a typed
 * EDGE_TRANSCODER_FAILED and a killed process, never unbounded memory. Output is pushed to `onData`;
 * the consumer applies backpressure with `pauseOutput`/`resumeOutput` (ffmpeg then blocks on its
 * stdout, stops reading stdin, and the input backlog grows until writes say "wait").
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { EdgeError } from '../errors.js';

export type FfmpegInfo = { ok: true; path: string; version: string } | { ok: false; error: EdgeError };

/** The executable a command name resolves to on PATH (what spawn would run), or null. */
function resolveOnPath(command: string): string | null {
  const candidates = isAbsolute(command) || command.includes('/') ? [command] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, command));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** Finds ffmpeg (`command`: a path or a name on PATH) and reads its version; never throws. */
export function detectFfmpeg(command = 'ffmpeg', timeoutMs = 5000): Promise<FfmpegInfo> {
  const path = resolveOnPath(command);
  if (path === null) {
    return Promise.resolve({ ok: false, error: new EdgeError('EDGE_TRANSCODER_UNAVAILABLE', `ffmpeg not found (looked for "${command}" on PATH); install ffmpeg or set its path`) });
  }
  return new Promise((resolve) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: timeoutMs }, (err, stdout) => {
      const m = /ffmpeg version (\S+)/.exec(stdout ?? '');
      if (err || !m) {
        const why = err ? err.message : 'no version line in its output';
        resolve({ ok: false, error: new EdgeError('EDGE_TRANSCODER_UNAVAILABLE', `${path} does not run as ffmpeg: ${why}`) });
      } else resolve({ ok: true, path, version: m[1]! });
    });
  });
}

export type TranscodeJob =
  | { kind: 'h265-to-h264' }
  | { kind: 'audio-to-aac'; input: 'g711a' | 'g711u' | 'g726'; sampleRate?: number; /** G.726 bits per sample (2–5; 4 = 32 kbit/s). */ g726Bits?: number };

/** The ffmpeg arguments of a job: stdin to stdout, errors only on stderr. */
export function ffmpegArgs(job: TranscodeJob): string[] {
  // not `-fflags +nobuffer`: with piped raw input, ffmpeg 5.1 then loses frames (1 of 45 video pictures, most audio)
  const common = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-flags', 'low_delay'];
  if (job.kind === 'h265-to-h264') {
    return [
      ...common,
      ...['-probesize', '32', '-f', 'hevc', '-i', 'pipe:0', '-an'],
      // one output picture per input picture, none held back: no B-frames, no lookahead; SPS/PPS before each keyframe so a viewer can join
      ...['-fps_mode', 'passthrough', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-x264-params', 'repeat-headers=1'],
      ...['-f', 'h264', 'pipe:1'],
    ];
  }
  const rate = String(job.sampleRate ?? 8000);
  const input = job.input === 'g711a' ? ['-f', 'alaw'] : job.input === 'g711u' ? ['-f', 'mulaw'] : ['-f', 'g726', '-code_size', String(job.g726Bits ?? 4)];
  return [...common, ...input, '-ar', rate, '-ac', '1', '-i', 'pipe:0', '-c:a', 'aac', '-b:a', '32k', '-f', 'adts', 'pipe:1'];
}

export interface TranscoderOptions {
  ffmpegPath: string;
  job: TranscodeJob;
  onData: (chunk: Uint8Array) => void;
  /** Called once: null after `end()` and a clean exit, an EdgeError otherwise (exit code, signal, backlog, spawn failure); not after `stop()`. */
  onExit: (error: EdgeError | null) => void;
  /** Input bytes written but not yet taken by ffmpeg beyond which the stream fails (default 4 MiB). */
  maxBufferedBytes?: number;
  /** Input backlog above which `write` answers false: wait for `onDrain` (default 256 KiB). */
  highWaterBytes?: number;
  onDrain?: () => void;
}

const STDERR_KEEP = 2000;

/** A running conversion. */
export class Transcoder {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly max: number;
  private readonly high: number;
  private stderr = '';
  private finished = false;
  private ended = false;

  constructor(private readonly opts: TranscoderOptions) {
    this.max = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.high = opts.highWaterBytes ?? 256 * 1024;
    this.child = spawn(opts.ffmpegPath, ffmpegArgs(opts.job), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (b: Buffer) => {
      if (!this.finished) opts.onData(new Uint8Array(b.buffer, b.byteOffset, b.length));
    });
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    // a write after ffmpeg died (EPIPE) is reported through the exit, not as an unhandled error
    this.child.stdin.on('error', () => {});
    this.child.stdin.on('drain', () => opts.onDrain?.());
    this.child.on('error', (e) => this.finish(new EdgeError('EDGE_TRANSCODER_FAILED', `ffmpeg could not start: ${e.message}`)));
    this.child.on('close', (code, signal) => {
      if (code === 0 && this.ended) return this.finish(null);
      const why = signal ? `killed by ${signal}` : code === 0 ? 'exited before its input ended' : `exited with code ${code}`;
      this.finish(new EdgeError('EDGE_TRANSCODER_FAILED', `ffmpeg ${why}${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    });
  }

  /** Input bytes ffmpeg has not taken yet. */
  get bufferedBytes(): number {
    return this.child.stdin.writableLength;
  }

  /**
   * Writes input; false means "wait for onDrain before the next write". A write that would take the
   * backlog past `maxBufferedBytes` fails the stream (EDGE_TRANSCODER_FAILED, process killed).
   */
  write(chunk: Uint8Array): boolean {
    if (this.finished || this.ended) return false;
    if (this.bufferedBytes + chunk.length > this.max) {
      this.fail(new EdgeError('EDGE_TRANSCODER_FAILED', `input backlog would pass ${this.max} bytes: ffmpeg does not keep up`));
      return false;
    }
    this.child.stdin.write(chunk);
    return this.bufferedBytes < this.high;
  }

  /** No more input: ffmpeg flushes what it holds, then exits (onExit(null)). */
  end(): void {
    if (this.finished || this.ended) return;
    this.ended = true;
    this.child.stdin.end();
  }

  pauseOutput(): void {
    this.child.stdout.pause();
  }

  resumeOutput(): void {
    this.child.stdout.resume();
  }

  /** Kills ffmpeg now; no onExit follows (the caller chose to stop). */
  stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.child.kill('SIGKILL');
  }

  private fail(e: EdgeError): void {
    if (this.finished) return;
    this.child.kill('SIGKILL');
    this.finish(e);
  }

  private finish(e: EdgeError | null): void {
    if (this.finished) return;
    this.finished = true;
    this.opts.onExit(e);
  }
}
