/**
 * Test helper: a headless Chromium driven through playwright-core (no browser download: the
 * distribution's chromium, which .ci/run installs). A test that needs one calls `findChromium()`
 * at load and skips with the printed reason when there is none.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

/**
 * Flags for root in a container: no sandbox (its namespaces need a user that is not root),
 * the new headless mode (the old one is gone from current Chromium), media that plays without a
 * user gesture and makes no sound, and /dev/shm left alone (containers give it 64 MiB).
 */
export const CHROMIUM_FLAGS = ['--no-sandbox', '--headless=new', '--autoplay-policy=no-user-gesture-required', '--mute-audio', '--disable-dev-shm-usage'];

export type ChromiumFound = { path: string; version: string } | { skip: string };

/** CHROMIUM_PATH, else /usr/bin/chromium; `skip` says why neither runs. */
export function findChromium(): ChromiumFound {
  const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(path)) return { skip: `no Chromium at ${path} (set CHROMIUM_PATH, or apt-get install chromium)` };
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return { skip: `${path} --version failed (${r.error?.message ?? `exit ${r.status}: ${r.stderr.trim()}`})` };
  return { path, version: r.stdout.trim() };
}

export async function launchChromium(path: string): Promise<Browser> {
  return chromium.launch({ executablePath: path, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
}
