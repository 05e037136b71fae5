import type { AssetMqttPort } from '../../src/assets/asset-service.js';

/** The asset service's MQTT port in memory: what it published, in order, and its management handler. */
export class FakeAssetMqtt implements AssetMqttPort {
  out: { topic: string; payload: string; retain: boolean }[] = [];
  handler: ((t: string, p: Buffer) => void) | null = null;
  state(topic: string, payload: string): void {
    this.out.push({ topic, payload, retain: true });
  }
  clear(topic: string): void {
    this.out.push({ topic, payload: '', retain: true });
  }
  event(topic: string, payload: string): void {
    this.out.push({ topic, payload, retain: false });
  }
  async subscribe(_f: string, h: (t: string, p: Buffer) => void): Promise<void> {
    this.handler = h;
  }
  /** Last retained payload of a topic (what a late subscriber would get). */
  retained(topic: string): string | undefined {
    return this.out.filter((o) => o.retain && o.topic === topic).at(-1)?.payload;
  }
  on(topic: string): Record<string, unknown>[] {
    return this.out.filter((o) => o.topic === topic).map((o) => JSON.parse(o.payload) as Record<string, unknown>);
  }
}
