/**
 * Child of gc-bench.ts, run under `node --trace-gc-nvp`: one MQTT.js client publishing ~1 KB JSON
 * payloads at QoS 1 in bursts (so hundreds are in flight at once, as in an after-load storm), either
 * with MQTT.js's own outgoing store (`default`: a Map) or with the publisher's (`edge`:
 * src/mqtt/inflight-store.ts, an array indexed by packet identifier). Prints one JSON line.
 *
 *   node --trace-gc-nvp dist/bench/lib/gc-publisher.js URL default|edge RATE BURST DURATION_MS
 */
import { connectAsync, type IClientOptions } from 'mqtt';
import { InflightStore } from '../../src/mqtt/inflight-store.js';

const [url = '', variant = 'default', rateArg = '5000', burstArg = '500', durationArg = '5000'] = process.argv.slice(2);
const rate = Number(rateArg);
const burst = Number(burstArg);
const durationMs = Number(durationArg);

const options: IClientOptions = { clientId: `gc-bench-${variant}-${process.pid}`, clean: true, protocolVersion: 4, reconnectPeriod: 0 };
if (variant === 'edge') options.outgoingStore = new InflightStore();
const client = await connectAsync(url, options);

// a 36-key message like a 24-IO record's, serialised per publish as the decoders do
const record: Record<string, number | string> = {};
for (let i = 0; i < 36; i++) record[`io.parameter.${i}`] = i * 1000.25;
let sent = 0;
let acked = 0;
const t0 = Date.now();
const cpu0 = process.cpuUsage();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    for (let i = 0; i < burst; i++) {
      record.timestamp = sent++;
      client.publish('gc-bench/x', JSON.stringify(record), { qos: 1 }, () => acked++);
    }
    if (Date.now() - t0 >= durationMs) {
      clearInterval(timer);
      resolve();
    }
  }, (1000 * burst) / rate);
});
while (acked < sent && Date.now() - t0 < durationMs + 10_000) await new Promise((r) => setTimeout(r, 20));
const cpu = process.cpuUsage(cpu0);
await client.endAsync();
process.stdout.write(`${JSON.stringify({ variant, sent, acked, seconds: (Date.now() - t0) / 1000, cpuUs: cpu.user + cpu.system })}\n`);
