import { connect, type Socket } from 'node:net';

/** A device on a real loopback TCP socket: everything the server wrote back is kept in `data`. */
export interface DeviceSocket {
  socket: Socket;
  data: Buffer[];
  closed: boolean;
  /** All bytes received so far, as hex. */
  hex(): string;
}

export async function connectDevice(port: number): Promise<DeviceSocket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
  const d: DeviceSocket = { socket, data: [], closed: false, hex: () => Buffer.concat(d.data).toString('hex') };
  socket.on('data', (b) => d.data.push(b));
  socket.on('close', () => (d.closed = true));
  socket.on('error', () => {});
  return d;
}

/** A client as a load balancer or device would be, bound to `localAddress`; `got` is the received bytes as hex. */
export interface BoundClient {
  socket: Socket;
  got: string;
  closed: boolean;
  /** The local port, kept: a closed socket no longer reports it. */
  localPort: number;
}

export function connectFrom(port: number, localAddress: string): Promise<BoundClient> {
  return new Promise((resolve, reject) => {
    const c: BoundClient = { socket: connect({ host: '127.0.0.1', port, localAddress, noDelay: true }), got: '', closed: false, localPort: 0 };
    c.socket.on('data', (d) => (c.got += d.toString('hex')));
    c.socket.on('close', () => (c.closed = true));
    c.socket.on('error', () => {});
    c.socket.once('connect', () => {
      c.localPort = c.socket.localPort ?? 0;
      resolve(c);
    });
    c.socket.once('error', reject);
  });
}
