import { closeSync, linkSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EdgeError, type ErrorCode } from '../errors.js';
import { pidAlive } from '../util/pid-alive.js';

/**
 * One process per data directory (the spool, the command store): `dir/lock`, created exclusively
 * (O_EXCL), holding who owns it, and kept alive by a heartbeat (the owner touches its mtime every
 * `refreshMs`). A directory this process already holds is refused at once, without waiting for a
 * heartbeat (two stores on one directory in one process would corrupt it as surely as two processes).
 *
 * Why not the pid alone (the first version): in containers every replica is pid 1, so "the pid in
 * the lock is mine, so the owner must be a dead earlier me" let a second replica on a shared volume
 * take a live lock, and "that pid is alive" cannot be checked across pid namespaces or hosts. The
 * heartbeat needs neither: a lock whose mtime moves is owned by a live process wherever it runs;
 * one that stays still for `staleMs` is not. So a restart (same pid or not) takes the lock over as
 * soon as the old heartbeat is `staleMs` old (at once after a clean stop, which deletes the file, and
 * after a crash of this instance on this host whose pid is gone), and a live owner is never
 * displaced while its event loop runs.
 *
 * Breaking a stale lock is a rename to a private name followed by a check that the renamed file is
 * the one judged stale (same token): two contenders cannot both win, and one that lost the race
 * puts the fresh lock back. Limits: the heartbeat needs clocks that agree within `staleMs` (one
 * host, or hosts kept in sync by NTP on a shared volume), and an owner whose event loop stalls for
 * longer than `staleMs` can lose its lock; it notices on its next beat (`onLost`).
 *
 * A lock file holding a bare pid (written by earlier versions) is honoured as before: it is live
 * while that pid is alive and is not ours.
 *
 * Why not proper-lockfile (4.1.2, checked for issue 33): it has the heartbeat (mtime of a lock
 * directory) and stale takeover, but not what the spool and stores rely on beyond that: the lock
 * holds no owner, so a refusal cannot say who holds it (instance, host, pid); a restart after
 * `kill -9` on the same host waits the full stale time (default 10 s, at least 2 s) instead of
 * taking the lock at once when the holder is this instance on this host and its pid is gone; a
 * stale lock is broken by remove-then-mkdir, not by a rename checked against the token judged
 * stale; and the earlier bare-pid lock files would not be recognised. Wrapping it to add those
 * would leave most of this file in place, plus three dependencies.
 */
export interface DirLockOptions {
  /** Owner identity written into the lock (config instance_id). */
  instanceId: string;
  /** Heartbeat period (default 1000 ms). */
  refreshMs?: number;
  /** A heartbeat older than this is a dead owner (default 3 × refreshMs). */
  staleMs?: number;
  /** The lock was taken by someone else while we held it (our heartbeat stalled past staleMs). */
  onLost?: (holder: string) => void;
  /** What the directory holds, for errors ("spool", "command store"); default "spool". */
  what?: string;
  /** The error code a refused lock carries (default EDGE_SPOOL_LOCKED). */
  code?: ErrorCode;
}

/** Real paths of the directories this process holds a lock on. */
const heldHere = new Set<string>();

interface Holder {
  instance: string;
  pid: number;
  host: string;
  token: string;
  since: string;
}

export class DirLock {
  private timer: NodeJS.Timeout | null = null;
  private released = false;

  private constructor(
    readonly path: string,
    readonly token: string,
    private readonly refreshMs: number,
    private readonly onLost: ((holder: string) => void) | undefined,
    private readonly heldKey: string,
  ) {}

  /**
   * Takes the lock of `dir`, waiting at most about staleMs when a lock file with a recent heartbeat
   * is found (to see whether it still beats). Throws `code` (EDGE_SPOOL_LOCKED) when a live owner holds
   * it, at once when the owner is this process.
   */
  static async acquire(dir: string, opts: DirLockOptions): Promise<DirLock> {
    const refreshMs = opts.refreshMs ?? 1000;
    const staleMs = opts.staleMs ?? 3 * refreshMs;
    const path = join(dir, 'lock');
    const locked = (who: string) => new EdgeError(opts.code ?? 'EDGE_SPOOL_LOCKED', `the ${opts.what ?? 'spool'} ${dir} is locked by ${who}`);
    const key = realpathSync(dir);
    if (heldHere.has(key)) {
      const seen = look(path);
      throw locked(`${seen ? describe(seen) : 'this process'}: already open in this process`);
    }
    const token = randomBytes(8).toString('hex');
    const me: Holder = { instance: opts.instanceId, pid: process.pid, host: hostname(), token, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (tryCreate(path, me)) {
        const lock = new DirLock(path, token, refreshMs, opts.onLost, key);
        heldHere.add(key);
        lock.startHeartbeat();
        return lock;
      }
      const seen = look(path);
      if (!seen) continue; // removed meanwhile: try again
      if (seen.legacyPid !== null) {
        if (seen.legacyPid !== process.pid && pidAlive(seen.legacyPid)) throw locked(`live process ${seen.legacyPid} (lock written by an earlier version)`);
      } else if (diedHere(seen.holder, opts.instanceId)) {
        // an earlier run of this instance on this host whose process is gone (systemd restart after
        // a crash): no need to wait for its heartbeat to go stale
      } else if (Date.now() - seen.mtimeMs < staleMs) {
        // a recent heartbeat: watch it until it would be stale
        const live = await beatsWithin(path, seen, staleMs - (Date.now() - seen.mtimeMs) + 50);
        if (live) throw locked(describe(look(path) ?? seen));
        const again = look(path);
        if (!again || again.raw !== seen.raw || again.mtimeMs !== seen.mtimeMs) continue;
      }
      breakStale(path, seen.raw, token);
    }
    throw locked('a lock that kept changing while this process tried to take it');
  }

  private startHeartbeat(): void {
    this.timer = setInterval(() => this.beat(), this.refreshMs);
    this.timer.unref();
  }

  private beat(): void {
    if (this.released) return;
    try {
      const raw = readFileSync(this.path, 'utf8');
      if (!raw.includes(this.token)) {
        this.stopHeartbeat();
        this.onLost?.(raw.trim());
        return;
      }
      const now = new Date();
      utimesSync(this.path, now, now);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.stopHeartbeat();
        this.onLost?.('(lock file removed)');
      }
      // other errors (a disk hiccup): the next beat tries again
    }
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops the heartbeat and deletes the lock file if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.heldKey);
    this.stopHeartbeat();
    try {
      if (readFileSync(this.path, 'utf8').includes(this.token)) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

function tryCreate(path: string, me: Holder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(me) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

interface Seen {
  raw: string;
  mtimeMs: number;
  holder: Partial<Holder> | null;
  legacyPid: number | null;
}

function look(path: string): Seen | null {
  try {
    const raw = readFileSync(path, 'utf8');
    const mtimeMs = statSync(path).mtimeMs;
    const t = raw.trim();
    if (/^\d+$/.test(t)) return { raw, mtimeMs, holder: null, legacyPid: Number(t) };
    let holder: Partial<Holder> | null = null;
    try {
      holder = JSON.parse(t) as Partial<Holder>;
    } catch {
      // being written right now, or torn by a crash: the heartbeat decides
    }
    return { raw, mtimeMs, holder, legacyPid: null };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function beatsWithin(path: string, seen: Seen, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, until - Date.now()))));
    const now = look(path);
    if (!now) return false;
    if (now.mtimeMs !== seen.mtimeMs || now.raw !== seen.raw) return true;
  }
  return false;
}

/** Moves a stale lock aside; if what was moved is not the stale lock (a contender re-created it), puts it back. */
function breakStale(path: string, staleRaw: string, token: string): void {
  const aside = `${path}.stale-${token}`;
  try {
    renameSync(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  let moved = '';
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    // unreadable: treat as the stale one
  }
  if (moved !== staleRaw && moved !== '') {
    try {
      linkSync(aside, path); // fails if yet another lock appeared: that one stands
    } catch {
      // EEXIST: a newer lock is in place
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // gone
  }
}

/**
 * The holder was this instance on this host, with another pid that no longer runs. Only then can a
 * pid be checked: the same instance id and host name put it in our pid namespace (a container
 * restarted with the same pid — 1 — is not covered and waits for the heartbeat).
 */
function diedHere(h: Partial<Holder> | null, instanceId: string): boolean {
  return !!h && h.instance === instanceId && h.host === hostname() && typeof h.pid === 'number' && h.pid !== process.pid && !pidAlive(h.pid);
}

function describe(s: Seen): string {
  const h = s.holder;
  const age = ((Date.now() - s.mtimeMs) / 1000).toFixed(1);
  return h ? `instance ${h.instance ?? '?'} (pid ${h.pid ?? '?'} on ${h.host ?? '?'}, heartbeat ${age} s ago)` : `a live owner (heartbeat ${age} s ago)`;
}


