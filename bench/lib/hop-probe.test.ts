import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEcho, startPinger, startRelay } from './hop-probe.js';

test('the pinger gets its 16 bytes back through the relay and the echo, one ping at a time', async () => {
  const echo = await startEcho();
  const relay = await startRelay(echo.port);
  const t0 = performance.now();
  const pinger = await startPinger(relay.port, 5);
  await new Promise((r) => setTimeout(r, 80));
  const samples = pinger.stop();
  const elapsed = performance.now() - t0;
  relay.close();
  echo.close();
  assert.ok(samples.length >= 3, `${samples.length} pings answered`);
  for (const [at, ms] of samples) assert.ok(at > 0 && ms >= 0 && ms < 80, `${at} ${ms}`);
  // paced at one ping per 5 ms (stop-and-wait), not as fast as the loopback answers
  assert.ok(samples.length <= elapsed / 5 + 1, `${samples.length} pings in ${elapsed} ms`);
});

test('with the echo gone the relay closes the connection and no ping is answered', async () => {
  const echo = await startEcho();
  const relay = await startRelay(echo.port);
  echo.close();
  const dead = await startEcho();
  dead.close();
  const relayToNothing = await startRelay(dead.port);
  const pinger = await startPinger(relayToNothing.port, 5);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pinger.stop().length, 0);
  relay.close();
  relayToNothing.close();
});
