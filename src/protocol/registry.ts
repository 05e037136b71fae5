import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EdgeError } from '../errors.js';
import { compiledProtocolsDir } from '../util/paths.js';
import type { ProtocolModule } from './types.js';

/**
 * Discovers protocols: every folder under protocols/ with an index.ts default-exporting a
 * ProtocolModule. Adding a protocol is one new folder; nothing central lists them. Folders whose
 * name starts with `_` (e.g. `protocols/_shared/`) hold shared code and are skipped.
 * Loaded once per thread (main and each worker) and cached.
 */
let cache: Promise<Map<string, ProtocolModule>> | undefined;

/** The registered protocols (dist/protocols), discovered once per thread: workers call this per task. */
export function loadProtocols(): Promise<Map<string, ProtocolModule>> {
  return (cache ??= discover(compiledProtocolsDir()));
}

async function discover(dir: string): Promise<Map<string, ProtocolModule>> {
  const out = new Map<string, ProtocolModule>();
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // `_shared` and other `_` folders hold code shared by protocols of a family, not protocols
    if (!entry.isDirectory() || entry.name.startsWith('_')) continue;
    const index = join(dir, entry.name, 'index.js');
    if (!existsSync(index)) continue;
    const mod = (await import(pathToFileURL(index).href)) as { default?: ProtocolModule };
    const proto = mod.default;
    if (!proto || typeof proto.decode !== 'function' || typeof proto.split !== 'function') {
      throw new Error(`protocols/${entry.name}/index.ts must default-export a ProtocolModule`);
    }
    if (proto.id !== entry.name) throw new Error(`protocols/${entry.name}: module id "${proto.id}" must equal its folder name`);
    out.set(proto.id, proto);
  }
  return out;
}

export async function getProtocol(id: string): Promise<ProtocolModule> {
  const all = await loadProtocols();
  const p = all.get(id);
  if (!p) throw new EdgeError('EDGE_PROTOCOL_UNKNOWN', `unknown protocol "${id}"; registered: ${[...all.keys()].join(', ') || 'none'}`);
  return p;
}
