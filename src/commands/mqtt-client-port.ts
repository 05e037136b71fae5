/**
 * The MQTT port (src/message/mqtt-port.ts) over a bare MQTT.js client: subscriptions at QoS 1
 * dispatched by filter (src/mqtt/inbound-router.ts), publishes at QoS 1 (done on PUBACK). The server
 * uses its message sink; tests and tools use this one.
 */
import type { MqttClient } from 'mqtt';
import type { MqttPort, PublishDone } from '../message/mqtt-port.js';
import { InboundRouter } from '../mqtt/inbound-router.js';

export function mqttClientPort(client: MqttClient): MqttPort {
  const router = new InboundRouter();
  client.on('message', (topic, payload) => router.dispatch(topic, payload));
  const publish = (topic: string, payload: string, retain: boolean, done?: PublishDone) => {
    client.publishAsync(topic, payload, { qos: 1, retain }).then(
      () => done?.(),
      (e: unknown) => done?.(e instanceof Error ? e : new Error(String(e))),
    );
  };
  return {
    async subscribe(filter, onMessage) {
      router.add(filter, onMessage);
      await client.subscribeAsync(filter, { qos: 1 });
    },
    state: (topic, payload, done) => publish(topic, payload, true, done),
    clear: (topic, done) => publish(topic, '', true, done),
    event: (topic, payload, done) => publish(topic, payload, false, done),
  };
}
