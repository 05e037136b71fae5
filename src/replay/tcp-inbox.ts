import { connect, type Socket } from 'node:net';

/**
 * A client TCP connection whose received bytes wait in one buffer until a reader takes them: the
 * part that the replay device (reply bytes compared exactly) and protocol simulations (frames cut by
 * the protocol's splitter) have in common. `onChange` is called whenever bytes arrive or the
 * connection closes, so a reader can re-check without polling.
 */
export class TcpInbox {
  buf: Buffer = Buffer.alloc(0);
  closed = false;
  onChange: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.onChange?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.onChange?.();
    });
  }

  static async open(host: string, port: number, localAddress?: string): Promise<TcpInbox> {
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = connect({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    return new TcpInbox(socket);
  }

  /** The first `n` buffered bytes, removed from the buffer. */
  take(n: number): Buffer {
    const got = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return got;
  }
}
