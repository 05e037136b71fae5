import type { Piscina } from 'piscina';

/**
 * Two changes to how Piscina's per-task objects die, so a decode task's result (the payload strings
 * of a batch and all they reach) dies young instead of being copied to V8's old generation. Found with
 * `node --trace-gc-nvp` and the e2e bench (bench/README.md, issue #31). Piscina 5.3.2 is the latest on
 * npm as this is written; each change is made only if Piscina still has the shape it relies on, and
 * `piscina-gc.test.ts` fails if it does not, so an upgrade cannot lose them silently.
 *
 * 1. A worker's `interface`. On each `run()` Piscina hands its balancer the `interface` of every ready
 *    worker, and that getter builds a new object literal with six getters, each a new closure. V8 keeps
 *    a literal's getters in accessor pairs in the old generation, so each discarded interface kept its
 *    young closures alive through the young-generation collections until the next full one (about
 *    450–700 KB promoted per scavenge at 5,000 frames/s). The getter is wrapped to cache its first
 *    result per worker; the cached object's getters still read the worker's live state, so the balancer
 *    sees the same values. The one visible difference: `workerCreate`/`workerDestroy` listeners get the
 *    same object for one worker.
 * 2. A finished task. Piscina's TaskInfo constructor writes an arrow function straight into a property
 *    (`this._abortListener = () => ...`); V8 allocates such a literal in the old generation while the
 *    constructor runs unoptimised, and the dead closure keeps the TaskInfo reachable through its context
 *    and, through the TaskInfo's `callback`, the promise and the task's result. TaskInfo's `done` is
 *    wrapped to drop `callback` and `transferList` once it has run (a task is done once).
 *
 * How Piscina's classes are reached: the first `workerCreate` event's argument is such an interface,
 * whose `Piscina.kWorkerData` symbol leads to the WorkerInfo; its prototype has `interface`, and its
 * `postTask(taskInfo)` leads to the TaskInfo class the first time a task is posted.
 */
const CACHE = Symbol('edge-channel.piscina-interface');
const WRAPPED = Symbol('edge-channel.piscina-wrapped');

type InterfaceOwner = { [CACHE]?: object };
/** The TaskInfo fields the wrapped `done` clears. */
interface TaskInfoLike {
  callback: (err: unknown, result: unknown) => void;
  transferList?: unknown;
}
const spent = (): void => {};

export function adaptPiscina(piscina: Piscina): void {
  piscina.once('workerCreate', (iface: unknown) => {
    const proto = workerInfoPrototype(iface);
    if (!proto) return;
    wrapGetter(proto, 'interface', (original) =>
      function cached(this: InterfaceOwner): object {
        return (this[CACHE] ??= original.call(this) as object);
      },
    );
    let taskClassSeen = false;
    wrapMethod(proto, 'postTask', (original) =>
      function postTask(this: unknown, taskInfo: unknown): unknown {
        if (!taskClassSeen && typeof taskInfo === 'object' && taskInfo !== null) {
          taskClassSeen = true;
          wrapMethod(Object.getPrototypeOf(taskInfo) as object, 'done', releaseAfterDone);
        }
        return original.call(this, taskInfo);
      },
    );
  });
}

/** What `adaptPiscina` changed, seen from a worker interface: for the test that guards Piscina upgrades. */
export function piscinaAdapted(iface: unknown): { interfaceCached: boolean; doneReleases: boolean } {
  const proto = workerInfoPrototype(iface);
  const interfaceCached = Boolean(proto && isWrapped(Object.getOwnPropertyDescriptor(proto, 'interface')?.get));
  let doneReleases = false;
  const worker = proto ? workerOf(iface) : null;
  const infos = worker ? (worker as { taskInfos?: unknown }).taskInfos : undefined;
  if (infos instanceof Map) for (const t of infos.values()) doneReleases ||= isWrapped((Object.getPrototypeOf(t) as { done?: unknown }).done);
  return { interfaceCached, doneReleases };
}

/** The wrapped `done` of a Piscina TaskInfo: the task's result leaves with it (see 2. above). */
function releaseAfterDone(original: (...a: unknown[]) => unknown) {
  return function done(this: TaskInfoLike, err: unknown, result: unknown): unknown {
    try {
      return original.call(this, err, result);
    } finally {
      this.callback = spent;
      this.transferList = undefined;
    }
  };
}

function workerOf(iface: unknown): object | null {
  if (typeof iface !== 'object' || iface === null) return null;
  const key = Object.getOwnPropertySymbols(iface).find((s) => s.description === 'Piscina.kWorkerData');
  const worker = key ? (iface as Record<symbol, unknown>)[key] : undefined;
  return typeof worker === 'object' && worker !== null ? worker : null;
}

function workerInfoPrototype(iface: unknown): object | null {
  const worker = workerOf(iface);
  return worker ? (Object.getPrototypeOf(worker) as object | null) : null;
}

function isWrapped(f: unknown): boolean {
  return typeof f === 'function' && (f as { [WRAPPED]?: boolean })[WRAPPED] === true;
}

function mark<F extends object>(f: F): F {
  Object.defineProperty(f, WRAPPED, { value: true });
  return f;
}

function wrapGetter(proto: object, name: string, make: (original: () => unknown) => () => unknown): void {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  if (!d?.get || isWrapped(d.get)) return;
  Object.defineProperty(proto, name, { ...d, get: mark(make(d.get)) });
}

function wrapMethod(proto: object, name: string, make: (original: (...a: unknown[]) => unknown) => (...a: never[]) => unknown): void {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  if (typeof d?.value !== 'function' || isWrapped(d.value)) return;
  Object.defineProperty(proto, name, { ...d, value: mark(make(d.value as (...a: unknown[]) => unknown)) });
}
