/** The DDD parser's public surface: what the runtime wiring (media store, `tacho.download` messages) and the CLI call. */
export { parseDdd, type DddDocument, type DddOptions, type DddWarning } from './parse.js';
export { summarize, type DddSummary } from './summary.js';
export { summaryText } from './summary-text.js';
export type { ActivityInterval } from './activity.js';
export { TrustStore, type SignatureCheck, type SignatureSummary } from './verify.js';
