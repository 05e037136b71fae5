/**
 * Connection close codes published with every "closed" log event. 2–19 follow flespi's channel
 * close codes (flespi documentation, "channel connection close codes"); 20 and up are this project's own.
 * README.md "Close codes" lists them.
 */
export const CLOSE_CODES = {
  UNEXPECTED: -1,
  BY_DEVICE: 2,
  PROTOCOL_VIOLATION: 4,
  INTERNAL_ERROR: 5,
  PARSE_ERROR: 6,
  SERVER_RESTART: 7,
  CHANNEL_CHANGED: 9,
  IDENT_COLLISION: 12,
  WHITELIST_MISMATCH: 16,
  INACTIVITY_TIMEOUT: 17,
  BLACKLIST_MATCH: 20,
  CONNECTION_LIMIT: 21,
  OUTBOUND_OVERFLOW: 22,
  FRAME_TIMEOUT: 23,
  PROXY_HEADER: 24,
  IDENT_CHURN: 25,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

export const CLOSE_REASONS: Record<CloseCode, string> = {
  [-1]: 'unexpected disconnect',
  2: 'closed by device',
  4: 'data violates the channel protocol (framing or checksum)',
  5: 'internal error (e.g. publish failed)',
  6: 'parse error',
  7: 'server restart or shutdown',
  9: 'channel parameters changed',
  12: 'ident collision: the same ident connected again',
  16: 'IP whitelist mismatch',
  17: 'inactivity timeout',
  20: 'IP blacklist match',
  21: 'channel connection limit reached',
  22: 'the peer does not read its replies (outbound bytes over 2x max_outbound_bytes)',
  23: 'a started frame was not complete within frame_timeout_s',
  24: 'PROXY protocol header refused: untrusted source, missing, malformed or too slow',
  25: 'the connection changed its ident more often than allowed',
};
