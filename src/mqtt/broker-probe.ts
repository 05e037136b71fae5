import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * Does an MQTT broker answer at host:port? Sends an MQTT 3.1.1 CONNECT (clean session, random
 * client id, no credentials) and reads the CONNACK, then disconnects cleanly. An open port that is
 * not MQTT, a refused CONNECT (e.g. anonymous clients not allowed) and silence are told apart, so
 * the start command can say why it did not use what it found.
 *
 *   CONNECT  10 <len> | 00 04 "MQTT" 04 02(clean) 00 0a(keepalive 10 s) | 00 <n> client-id
 *   CONNACK  20 02 <session present> <return code: 0 accepted, 1..5 refused>
 */
export type ProbeResult =
  | { answer: 'accepted'; ms: number }
  | { answer: 'refused'; returnCode: number; reason: string }
  | { answer: 'absent' | 'not-mqtt' | 'closed' | 'timeout'; reason: string };

const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized (anonymous clients refused?)',
};

export function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const body = Buffer.concat([Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a, id.length >> 8, id.length & 0xff]), id]);
  // remaining length < 128 for any client id we send: one length byte
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

export function probeMqttBroker(host: string, port: number, timeoutMs = 1500): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const sock = connect({ host, port, noDelay: true });
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (r.answer === 'accepted') sock.end(Buffer.from([0xe0, 0x00])); // DISCONNECT: no last will, no noise in the broker log
      else sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ answer: 'timeout', reason: `no CONNACK within ${timeoutMs} ms` }), timeoutMs);
    sock.on('connect', () => sock.write(connectPacket(`edge-channel-probe-${randomBytes(4).toString('hex')}`)));
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length < 4) return;
      if (got[0] !== 0x20 || got[1] !== 0x02) {
        finish({ answer: 'not-mqtt', reason: `answered ${got.subarray(0, 8).toString('hex')}…, not an MQTT CONNACK` });
        return;
      }
      const rc = got[3]!;
      if (rc === 0) finish({ answer: 'accepted', ms: performance.now() - t0 });
      else finish({ answer: 'refused', returnCode: rc, reason: `CONNACK return code ${rc}: ${CONNACK_REASONS[rc] ?? 'refused'}` });
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNREFUSED' ? { answer: 'absent', reason: 'nothing listens there' } : { answer: 'closed', reason: e.message }));
    sock.on('close', () => finish({ answer: 'closed', reason: 'connection closed without a CONNACK' }));
  });
}
