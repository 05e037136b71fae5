/**
 * One naming for everything the server publishes: flespi-style dotted lower-case names, as in
 * messages (`position.latitude`). Internal objects keep TypeScript's camelCase (`decodeErrors`) or
 * the snake_case of config keys (`spool_records`); payloads go through `dotted` when published.
 */
export function dottedName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1.$2')
    .replace(/_/g, '.')
    .toLowerCase();
}

/** A flat object with its keys in dotted lower-case (values unchanged). */
export function dotted(o: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[dottedName(k)] = o[k];
  return out;
}

/**
 * `channel.id` as published: a JSON number when the configured id is all digits (as users write
 * `id: 1`), else the string. Messages, log events and state payloads all use this one form.
 */
/** An asset id as published: like channel ids, an id of digits (an integer id) is a number. */
export function assetIdValue(assetId: string): number | string {
  return channelIdValue(assetId);
}

export function channelIdValue(channelId: string): number | string {
  return /^\d+$/.test(channelId) && channelId.length < 16 ? Number(channelId) : channelId;
}
