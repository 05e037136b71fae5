import { EdgeError } from '../errors.js';
import { checkOptions } from '../protocol/options.js';
import type { ProtocolModule } from '../protocol/types.js';

/** --options: a JSON object checked against the protocol's declared options, over its defaults. */
export function protocolOptions(proto: ProtocolModule, text: string | undefined): Readonly<Record<string, unknown>> {
  if (text === undefined) return proto.defaultOptions;
  let given: unknown;
  try {
    given = JSON.parse(text);
  } catch (e) {
    throw new EdgeError('EDGE_CLI_USAGE', `--options expects a JSON object: ${(e as Error).message}`);
  }
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new EdgeError('EDGE_CLI_USAGE', '--options expects a JSON object');
  try {
    checkOptions(proto.options, given as Record<string, unknown>, '--options', proto.id);
  } catch (e) {
    throw new EdgeError('EDGE_CLI_USAGE', e instanceof EdgeError ? e.reason : (e as Error).message);
  }
  return { ...proto.defaultOptions, ...(given as Record<string, unknown>) };
}
