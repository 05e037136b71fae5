/**
 * `pool.threads: 0`: one decode thread per core but one, which stays the main thread's (it reads
 * the sockets, publishes and writes the ACKs), and at least one. On 2 cores one worker instead of
 * two gave as many or more records per second at the maximum (three interleaved e2e pairs) and a
 * live device's p99 in an after-load storm of 74-107 ms (five runs) instead of 120-130 ms (the three
 * runs interleaved with them; bench/README.md, "Sixth pass"): the second worker only competed with
 * the main thread for the two cores.
 */
export function defaultDecodeThreads(cores: number): number {
  return Math.max(1, cores - 1);
}
