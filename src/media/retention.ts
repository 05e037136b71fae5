import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgeError } from '../errors.js';
import { replaceFile } from '../storage/durable-file.js';
import type { MediaEntry } from './media-catalog.js';
import { safeLevel, sidecarPath } from './media-store.js';

/** How long and how much a device's files are kept (0: no limit). */
export interface RetentionRule {
  ttlDays: number;
  rotateBytes: number;
}

/** A device's own rule, set over the HTTP API: each limit absent = the channel's. */
export interface DeviceRetention {
  ttl_days?: number;
  rotate_bytes?: number;
}

export type DeletionReason = 'ttl' | 'rotate';

/**
 * What goes, oldest first: files past the age limit, then, while the device's files are over the
 * size cap, its oldest remaining ones. Protected files never go (they still count towards the cap:
 * the cap says how much the device may hold, protection says what must not be lost). Pure: the
 * entries, the rule and the time in, the deletions out.
 */
export function retentionDeletions(entries: readonly MediaEntry[], rule: RetentionRule, nowS: number): { entry: MediaEntry; reason: DeletionReason }[] {
  const oldestFirst = [...entries].sort((a, b) => a.stored_at - b.stored_at || (a.id < b.id ? -1 : 1));
  const out: { entry: MediaEntry; reason: DeletionReason }[] = [];
  const kept: MediaEntry[] = [];
  const cutoff = rule.ttlDays > 0 ? nowS - rule.ttlDays * 86400 : -Infinity;
  for (const e of oldestFirst) {
    if (!e.protected && e.stored_at < cutoff) out.push({ entry: e, reason: 'ttl' });
    else kept.push(e);
  }
  if (rule.rotateBytes > 0) {
    let total = kept.reduce((n, e) => n + e.bytes, 0);
    for (const e of kept) {
      if (total <= rule.rotateBytes) break;
      if (e.protected) continue;
      out.push({ entry: e, reason: 'rotate' });
      total -= e.bytes;
    }
  }
  return out;
}

/** The device's own rule file (a dot file: never listed as a stored file). */
function ruleFile(mediaDir: string, channel: string, ident: string): string {
  return join(mediaDir, safeLevel(channel), safeLevel(ident), '.retention.json');
}

export async function readDeviceRetention(mediaDir: string, channel: string, ident: string): Promise<DeviceRetention> {
  try {
    const v = JSON.parse(await readFile(ruleFile(mediaDir, channel, ident), 'utf8')) as DeviceRetention;
    const out: DeviceRetention = {};
    if (Number.isSafeInteger(v.ttl_days) && v.ttl_days! >= 0) out.ttl_days = v.ttl_days!;
    if (Number.isSafeInteger(v.rotate_bytes) && v.rotate_bytes! >= 0) out.rotate_bytes = v.rotate_bytes!;
    return out;
  } catch {
    return {};
  }
}

export async function writeDeviceRetention(mediaDir: string, channel: string, ident: string, r: DeviceRetention): Promise<void> {
  await mkdir(join(mediaDir, safeLevel(channel), safeLevel(ident)), { recursive: true });
  await replaceFile(ruleFile(mediaDir, channel, ident), JSON.stringify(r), true);
}

/**
 * Deletes a stored file and its sidecar. True when this call removed it: with several instances on
 * one folder, only the instance whose unlink succeeded reports the deletion.
 */
export async function deleteStored(e: MediaEntry): Promise<boolean> {
  try {
    await unlink(e.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new EdgeError('EDGE_MEDIA_WRITE_FAILED', `cannot delete ${e.path}: ${(err as Error).message}`);
  }
  await unlink(sidecarPath(e.path)).catch(() => undefined);
  return true;
}
