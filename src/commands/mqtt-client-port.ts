/**
 * A CommandMqttPort over an MQTT.js client: subscriptions at QoS 1 dispatched by filter, publishes
 * at QoS 1 (resolved on PUBACK). The runtime may route through its own publisher instead; tests and
 * tools use this one.
 */
import type { MqttClient } from 'mqtt';
import type { CommandMqttPort } from './ports.js';

/** MQTT filter matching: `+` is one level, a trailing `#` any number of levels (including none). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export function mqttClientPort(client: MqttClient): CommandMqttPort {
  const handlers: { filter: string; onMessage: (topic: string, payload: Buffer) => void }[] = [];
  client.on('message', (topic, payload) => {
    for (const h of handlers) if (topicMatches(h.filter, topic)) h.onMessage(topic, payload);
  });
  return {
    async subscribe(filter, onMessage) {
      handlers.push({ filter, onMessage });
      await client.subscribeAsync(filter, { qos: 1 });
    },
    async publish(topic, payload, opts) {
      await client.publishAsync(topic, payload, { qos: 1, retain: opts.retain });
    },
  };
}
