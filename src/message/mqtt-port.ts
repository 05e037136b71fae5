/** Called once the broker confirmed the publish (QoS 1 PUBACK), or with the error that prevented it. */
export type PublishDone = (err?: Error) => void;

/**
 * The one way features reach MQTT (commands, assets, relay, and the features to come): the intents
 * of the server's message sink, with a callback per publish, and inbound subscriptions. MessageSink
 * implements it over the server's one client; `src/commands/mqtt-client-port.ts` over a bare MQTT.js
 * client (tools, tests); test fakes record what is published.
 */
export interface MqttPort {
  /** Retained QoS 1 state: the latest value is what a late subscriber gets. */
  state(topic: string, payload: string, done?: PublishDone): void;
  /** Clears a retained state (an empty retained payload). */
  clear(topic: string, done?: PublishDone): void;
  /** A QoS 1 event, not retained. */
  event(topic: string, payload: string, done?: PublishDone): void;
  /** Inbound messages on `filter` (renewed on every reconnect); resolves once subscribed, or at once while disconnected. */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void>;
}
