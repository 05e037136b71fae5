import { EdgeError } from '../errors.js';

/**
 * How the processes of one box share the channels' ports (config `processes_balance`):
 *
 * - `reuseport`: every process binds its own listening sockets with SO_REUSEPORT and the kernel
 *   spreads new TCP connections over them; nothing passes through the cluster primary. UDP
 *   sockets too: Linux hashes a datagram's source address and port to one socket of the group,
 *   so a device's datagrams keep reaching the same process (its peer table, session and ident).
 * - `primary`: Node's cluster default. The primary owns the TCP listening socket, accepts and
 *   hands each connection to a process in turn (one IPC hop per connection, none per byte). A UDP
 *   socket shared that way would hand one device's datagrams to any process (each process would
 *   take the device over from the other in turn), so only process 0 opens the UDP ports.
 *
 * `auto` is reuseport where it exists: `reusePort` of net.Server.listen and dgram.createSocket
 * came in Node 23.1.0 and 22.12.0, and Linux is where SO_REUSEPORT balances (macOS lets the last
 * socket take everything). Node 20 has neither option (it ignores it on listen, refuses the port
 * on dgram), hence the primary there.
 */
export type Balance = 'reuseport' | 'primary';

export interface ReusePortSupport {
  ok: boolean;
  /** Why (not), for the log line and the error. */
  why: string;
}

export function reusePortSupport(version: string = process.version, platform: string = process.platform): ReusePortSupport {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const node = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  if (!node) return { ok: false, why: `Node ${version} has no reusePort on sockets (22.12+, 23.1+)` };
  if (platform !== 'linux') return { ok: false, why: `Node ${version} has reusePort, but ${platform} does not spread connections over SO_REUSEPORT sockets as Linux does` };
  return { ok: true, why: `Node ${version} on Linux has reusePort` };
}

/** The balance to run with; `reuseport` asked for where Node lacks the option is a config error. */
export function chooseBalance(setting: 'auto' | 'reuseport' | 'primary', support: ReusePortSupport = reusePortSupport()): Balance {
  if (setting === 'primary') return 'primary';
  if (setting === 'reuseport') {
    // another kernel with a Node that has the option: the operator asked for it, it binds
    if (!support.ok && /has no reusePort/.test(support.why)) throw new EdgeError('EDGE_CONFIG_INVALID', `processes_balance: expected auto or primary (${support.why}), got "reuseport"`);
    return 'reuseport';
  }
  return support.ok ? 'reuseport' : 'primary';
}

/** One sentence for the start-up log: what was chosen, and why. */
export function balanceNote(balance: Balance, setting: string, support: ReusePortSupport): string {
  const why = setting === 'auto' ? ` (auto: ${support.why})` : ` (processes_balance: ${setting})`;
  return balance === 'reuseport'
    ? `balance reuseport${why}: each process binds the ports with SO_REUSEPORT and the kernel spreads TCP connections and UDP sources over them`
    : `balance primary${why}: the primary accepts TCP connections and hands them to the processes in turn; UDP is served by process 0 only`;
}
