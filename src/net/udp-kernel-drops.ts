import { readFile } from 'node:fs/promises';

/**
 * Datagrams the kernel dropped for one bound UDP port because its receive buffer was full: they
 * never reach the process, so nothing else can count them. Linux reports a per-socket `drops`
 * column (the last one) in /proc/net/udp and /proc/net/udp6; the local address column ends in the
 * port in hex. Returns null where the file does not exist (other systems) or the port is not found.
 */
export async function udpKernelDrops(port: number, procFiles: readonly string[] = ['/proc/net/udp', '/proc/net/udp6']): Promise<number | null> {
  const suffix = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  let found = false;
  let drops = 0;
  for (const file of procFiles) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    drops += parseDrops(text, suffix, () => (found = true));
  }
  return found ? drops : null;
}

/** Sums the drops column of the lines whose local address ends in `portSuffix` (":1F4A"). */
export function parseDrops(procText: string, portSuffix: string, onMatch: () => void = () => {}): number {
  let sum = 0;
  const lines = procText.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.trim().split(/\s+/);
    if (cols.length < 13 || !cols[1]!.endsWith(portSuffix)) continue;
    const d = Number(cols[cols.length - 1]);
    if (Number.isFinite(d)) {
      sum += d;
      onMatch();
    }
  }
  return sum;
}
