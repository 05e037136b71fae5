/**
 * Inbound MQTT dispatch: topic filters (with `+` and `#`) to handlers, for the subscriptions the
 * server makes through its one client (commands, asset management). MQTT.js resubscribes after a
 * reconnect; this keeps the handlers.
 */
export type InboundHandler = (topic: string, payload: Buffer) => void;

export class InboundRouter {
  private readonly routes: { filter: string[]; handler: InboundHandler }[] = [];

  add(filter: string, handler: InboundHandler): void {
    this.routes.push({ filter: topicFilterOf(filter).split('/'), handler });
  }

  /** Removes the route of this filter and handler; false when there was none. */
  remove(filter: string, handler: InboundHandler): boolean {
    const f = topicFilterOf(filter);
    const i = this.routes.findIndex((r) => r.handler === handler && r.filter.join('/') === f);
    if (i < 0) return false;
    this.routes.splice(i, 1);
    return true;
  }

  get size(): number {
    return this.routes.length;
  }

  /** Calls every handler whose filter matches; returns how many did. */
  dispatch(topic: string, payload: Buffer): number {
    const levels = topic.split('/');
    let n = 0;
    for (const r of this.routes) {
      if (matches(r.filter, levels)) {
        n++;
        r.handler(topic, payload);
      }
    }
    return n;
  }
}

/**
 * The topic filter inside a shared subscription: `$share/{group}/{filter}` delivers messages under
 * their own topic, which the filter matches (MQTT 5 section 4.8.2; Mosquitto and EMQX also for 3.1.1).
 */
export function topicFilterOf(subscription: string): string {
  if (!subscription.startsWith('$share/')) return subscription;
  const i = subscription.indexOf('/', 7);
  return i < 0 ? subscription : subscription.slice(i + 1);
}

export function matches(filter: readonly string[], levels: readonly string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i]!;
    if (f === '#') return true;
    if (i >= levels.length) return false;
    if (f !== '+' && f !== levels[i]) return false;
  }
  return filter.length === levels.length;
}

/** MQTT filter matching on topic strings: `+` is one level, a trailing `#` any number of levels (including none). */
export function topicMatches(filter: string, topic: string): boolean {
  return matches(filter.split('/'), topic.split('/'));
}
