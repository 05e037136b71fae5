import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelLog } from './channel-log.js';
import { LOCAL_TOTALS, type ConnectionTotals } from './connection-totals.js';
import type { MessageSink } from '../message/message-sink.js';
import { makeTopics } from '../mqtt/topics.js';
import { waitFor } from '../../test/support/harness.js';

const TOPIC = 'r/state/gw/channels/1/connections_count';

function sink(): { sink: MessageSink; counts: string[] } {
  const counts: string[] = [];
  const s = { topics: makeTopics('r'), state: (topic: string, payload: string) => topic === TOPIC && counts.push(payload), log: () => undefined };
  return { sink: s as unknown as MessageSink, counts };
}

/** Totals whose answers the test decides: the sum of `others` and the reported count, or a failure. */
function fakeTotals(leaseMs = 90) {
  const calls: string[] = [];
  const t = {
    shared: true,
    leaseMs,
    others: 10,
    down: false,
    report(_c: string, n: number) {
      calls.push(`report ${n}`);
      return t.down ? Promise.reject(new Error('Redis down')) : Promise.resolve(t.others + n);
    },
    leave() {
      calls.push('leave');
      return t.down ? Promise.reject(new Error('Redis down')) : Promise.resolve(t.others);
    },
    close: () => Promise.resolve(),
  };
  return { t: t as ConnectionTotals & typeof t, calls };
}

const logger = () => {
  const lines: string[] = [];
  const rec = (level: string) => (_o: unknown, msg: string) => lines.push(`${level} ${msg}`);
  return { log: { warn: rec('warn'), info: rec('info') } as never, lines };
};

test('alone, connections_count is the channel\'s own count: changes coalesced, published when it changed', async () => {
  const { sink: s, counts } = sink();
  const log = new ChannelLog('1', s, LOCAL_TOTALS);
  await log.flushCount(0);
  let n = 0;
  for (let i = 0; i < 5; i++) {
    n++;
    log.connectionsCount(() => n);
  }
  await new Promise((r) => setTimeout(r, 600));
  await log.flushCount(n);
  assert.deepEqual(counts, ['0', '5', '5'], 'five changes in 500 ms: one publish; a flush publishes even when unchanged');
  await log.leave();
  assert.deepEqual(counts.at(-1), '0');
});

test('shared totals: the published count is every instance\'s, renewed while the channel runs, and what is left after it leaves', async () => {
  const { sink: s, counts } = sink();
  const { t, calls } = fakeTotals();
  const { log: lg, lines } = logger();
  const log = new ChannelLog('1', s, t, lg);
  let mine = 0;
  await log.flushCount(0);
  log.renewCount(() => mine);
  assert.deepEqual(counts, ['10'], 'at start: the other instances\' 10 connections, not 0');
  mine = 3;
  log.connectionsCount(() => mine);
  await waitFor('13 published', () => counts.at(-1) === '13');
  // another instance lost 4 connections: this one's renewal (every lease / 3) publishes the new total
  t.others = 6;
  await waitFor('9 published by a renewal', () => counts.at(-1) === '9');
  const published = counts.length;
  // Redis down: nothing is published (this instance's 3 alone would pass for the channel's), one warning
  t.down = true;
  const failedAt = calls.length;
  await waitFor('three renewals while Redis is down', () => calls.length >= failedAt + 3);
  assert.equal(counts.length, published);
  assert.deepEqual(lines.filter((l) => l.startsWith('warn')).length, 1);
  t.down = false;
  mine = 4;
  await waitFor('10 published once Redis is back', () => counts.at(-1) === '10');
  assert.ok(lines.some((l) => l.startsWith('info') && /reachable again/.test(l)));
  await log.leave();
  assert.equal(counts.at(-1), '6', 'after leaving: the others\' total');
  const after = calls.length;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(calls.length, after, 'no renewal after leave()');
});

test('reports go out in order: a slow answer is never overtaken by a later one', async () => {
  const { sink: s, counts } = sink();
  let first = true;
  const t: ConnectionTotals = {
    shared: false,
    leaseMs: 0,
    report: (_c, n) => new Promise((r) => setTimeout(() => r(n), first ? ((first = false), 50) : 0)),
    leave: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
  const log = new ChannelLog('1', s, t);
  const a = log.flushCount(1);
  const b = log.flushCount(2);
  await Promise.all([a, b]);
  assert.deepEqual(counts, ['1', '2']);
});
