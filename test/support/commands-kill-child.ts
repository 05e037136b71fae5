/**
 * Child process of test/commands-kill.test.ts: a command service on the store directory given in
 * argv[2] (fsync on), fed requests as fast as they are admitted; prints each id once its `queued`
 * event is published, i.e. once the command is durable. The parent kills it with SIGKILL mid-stream.
 */
import { FakeMqtt, startRig } from './command-fakes.js';

const dir = process.argv[2]!;
const mqtt = new FakeMqtt();
mqtt.onPublish = (p) => {
  if (p.topic.endsWith('/commands/queued')) process.stdout.write(`${(JSON.parse(p.payload) as { id: string }).id}\n`);
};
const rig = await startRig({ dir, mqtt, config: { fsync: true, max_queued_per_device: 100_000 } });
for (let i = 0; ; i++) {
  await rig.request({ id: `k${String(i).padStart(6, '0')}`, name: 'text', properties: { text: `n${i}` }, meta: { i } });
  if (i % 5 === 4) await rig.cancel(`k${String(i - 2).padStart(6, '0')}`); // some removals in the log too
}
