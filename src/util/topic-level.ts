/**
 * An ident becomes a topic level: MQTT wildcards, separators and non-printable characters are
 * replaced with "_" so a hostile or buggy device cannot address other topics.
 */
export function topicLevel(s: string): string {
  return /^[\x21-\x7e]+$/.test(s) && !/[#+/]/.test(s) ? s : s.replace(/[#+/]|[^\x21-\x7e]/g, '_') || '_';
}
