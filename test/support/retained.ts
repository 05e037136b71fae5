import { connectAsync } from 'mqtt';
import { waitFor } from './harness.js';

/** The retained messages under a filter, read by a fresh client (waits until they stop coming for 300 ms). */
export async function retained(url: string, filter: string): Promise<Map<string, string>> {
  const c = await connectAsync(url, { clientId: `read-${process.pid}-${Math.random()}`, clean: true });
  const out = new Map<string, string>();
  let last = Date.now();
  c.on('message', (t, p, packet) => {
    if (packet.retain) out.set(t, p.toString());
    last = Date.now();
  });
  await c.subscribeAsync(filter, { qos: 1 });
  last = Date.now();
  await waitFor('retained messages', () => Date.now() - last > 300, 15_000);
  await c.endAsync();
  return out;
}
