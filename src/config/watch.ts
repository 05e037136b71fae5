import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * Calls `onChange` when the config file's content changes. The directory is watched, not the
 * file: editors and `sed -i` write a new file and rename it over the old one, and a watch on the
 * file would keep watching the replaced inode and miss every later edit. Kubernetes ConfigMaps
 * swap a symlinked directory, so events for other names count too; the content comparison keeps
 * unrelated events (and saves without a change) from reloading. Events are debounced: one save is
 * several events.
 */
export interface ConfigWatcher {
  close(): void;
}

export function watchConfigFile(file: string, onChange: () => void, debounceMs = 300): ConfigWatcher {
  const path = resolve(file);
  const read = () => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null; // between unlink and rename, or removed: wait for the next event
    }
  };
  let last = read();
  let timer: NodeJS.Timeout | null = null;
  const check = () => {
    timer = null;
    const now = read();
    if (now === null || now === last) return;
    last = now;
    onChange();
  };
  let w: FSWatcher | null = watch(dirname(path), { persistent: false }, (_event, name) => {
    if (name !== null && name !== basename(path) && !String(name).startsWith('..')) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, debounceMs);
  });
  w.on('error', () => {}); // the directory went away: nothing left to watch
  return {
    close() {
      if (timer) clearTimeout(timer);
      w?.close();
      w = null;
    },
  };
}
