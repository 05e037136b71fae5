/**
 * A CommandMqttPort over a bare MQTT.js client: subscriptions at QoS 1 dispatched by filter
 * (src/mqtt/inbound-router.ts), publishes at QoS 1 (resolved on PUBACK). The server routes through
 * its own message sink (src/app/command-ports.ts); tests and tools use this one.
 */
import type { MqttClient } from 'mqtt';
import { InboundRouter } from '../mqtt/inbound-router.js';
import type { CommandMqttPort } from './ports.js';

export function mqttClientPort(client: MqttClient): CommandMqttPort {
  const router = new InboundRouter();
  client.on('message', (topic, payload) => router.dispatch(topic, payload));
  return {
    async subscribe(filter, onMessage) {
      router.add(filter, onMessage);
      await client.subscribeAsync(filter, { qos: 1 });
    },
    async publish(topic, payload, opts) {
      await client.publishAsync(topic, payload, { qos: 1, retain: opts.retain });
    },
  };
}
