import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EdgeError } from '../errors.js';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * A company card behind a program of the user's (`edge-channel card-bridge --exec CMD`): the bridge
 * writes each command APDU as one line of hex to the program's stdin and reads the response APDU
 * (data + SW1 SW2) as one line of hex from its stdout. Any PC/SC tool can sit behind it (a few lines
 * of Python with pyscard, for example: README "Card bridge"), so the bridge needs no native binding
 * of its own. One program runs for the bridge's lifetime (the card session stays open between the
 * APDUs of one authentication); calls are made one at a time. A program that exits, writes something
 * that is not hex or does not answer in `timeoutMs` fails the exchange (the device's download ends
 * with the reason) and is started again for the next one.
 */
export class ExecCard {
  private child: ChildProcessWithoutNullStreams | null = null;
  private buf = '';
  private waiting: { resolve: (line: string) => void; reject: (e: Error) => void } | null = null;
  private stderrTail = '';

  constructor(
    private readonly command: string,
    private readonly timeoutMs: number,
  ) {}

  /** The response APDU for a command APDU (both hex). */
  async exchange(apdu: string): Promise<string> {
    if (!HEX.test(apdu)) throw new EdgeError('EDGE_RELAY_FAILED', `not a hex APDU: ${apdu.slice(0, 40)}`);
    const child = this.start();
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.stop();
        reject(new EdgeError('EDGE_RELAY_TIMEOUT', `the card program did not answer APDU ${apdu} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting = {
        resolve: (l) => (clearTimeout(timer), resolve(l)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      child.stdin.write(`${apdu}\n`);
    });
    const r = line.trim().replace(/\s+/g, '');
    if (!HEX.test(r) || r.length < 4) throw new EdgeError('EDGE_RELAY_FAILED', `the card program answered "${line.slice(0, 80)}", not a hex response APDU (data + SW1 SW2)`);
    return r.toLowerCase();
  }

  stop(): void {
    this.child?.kill();
    this.child = null;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(this.command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const w = this.waiting;
        this.waiting = null;
        w?.resolve(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (this.stderrTail = (this.stderrTail + d).slice(-400)));
    child.stdin.on('error', () => {}); // a program that exited: reported by 'exit'
    const gone = (why: string) => {
      if (this.child === child) this.child = null;
      const w = this.waiting;
      this.waiting = null;
      w?.reject(new EdgeError('EDGE_RELAY_FAILED', `the card program ${why}${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`));
    };
    child.on('exit', (code, sig) => gone(`exited (${sig ?? `code ${code}`})`));
    child.on('error', (e) => gone(`could not start (${e.message})`));
    return child;
  }
}
