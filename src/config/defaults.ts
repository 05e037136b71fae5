import type { EdgeConfig } from './schema.js';
import { validateConfig } from './validate.js';

/**
 * What `npm start` runs with no config file: embedded broker, one Ruptela channel on TCP 5046.
 * Derived from the schema's defaults (schema.ts), never written out a second time.
 */
export const DEFAULT_CONFIG: EdgeConfig = validateConfig({});
