/**
 * UDP flood source for the guard bench, run as a child process so its CPU is not the channel's:
 *   node dist/bench/lib/udp-flooder.js HOST PORT LOCAL_ADDRESS DURATION_MS HEX
 * Sends the datagram as fast as the socket takes it (bounded outstanding sends) and prints
 * {"sent": n, "ms": t} on exit. Loopback only.
 */
import { createSocket } from 'node:dgram';

const [host = '127.0.0.1', portS = '0', local = '127.0.0.2', durS = '3000', hex = '00'] = process.argv.slice(2);
const port = Number(portS);
const payload = Buffer.from(hex, 'hex');
const sock = createSocket('udp4');
await new Promise<void>((r) => sock.bind(0, local, r));
const t0 = performance.now();
const until = t0 + Number(durS);
let sent = 0;
let outstanding = 0;
const MAX_OUTSTANDING = 512;
await new Promise<void>((resolve) => {
  const pump = () => {
    if (performance.now() >= until) {
      const wait = () => (outstanding === 0 ? resolve() : setTimeout(wait, 5));
      wait();
      return;
    }
    while (outstanding < MAX_OUTSTANDING) {
      outstanding++;
      sock.send(payload, port, host, () => {
        outstanding--;
        sent++;
      });
    }
    setImmediate(pump);
  };
  pump();
});
sock.close();
process.stdout.write(JSON.stringify({ sent, ms: Math.round(performance.now() - t0) }) + '\n');
