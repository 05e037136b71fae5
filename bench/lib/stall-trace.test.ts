import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attribute, type SlowAck, type Stall } from './stall-trace.js';

// A stall ends at atMs and lasted lateMs; a slow ACK starts at sentMs and lasted latencyMs.
const stall = (endMs: number, lateMs: number): Stall => ({ atMs: endMs, lateMs });
const ack = (sentMs: number, latencyMs: number): SlowAck => ({ sentMs, latencyMs });

test('a slow ACK is blamed on the loop that stalled for at least half of its excess latency', () => {
  const client = [ack(1_000, 42), ack(2_000, 42), ack(3_000, 42), ack(4_000, 42)];
  const server = [ack(3_001, 40)];
  const channel = [stall(1_030, 25)]; // covers 1_005..1_030: 25 ms of the first ACK's 40 ms excess
  const devices = [stall(2_030, 25), stall(1_030, 25)];
  const r = attribute(client, server, channel, devices, 2);
  assert.equal(r.slow, 4);
  assert.equal(r.channelLoop, 1, 'the channel stall comes first when both loops stalled');
  assert.equal(r.deviceLoop, 1);
  assert.equal(r.insideChannel, 1, 'the channel held the third frame itself (read → ACK 40 of 42 ms)');
  assert.equal(r.unexplained, 1);
  assert.equal(r.bursts, 4);
  assert.deepEqual(r.channelStalls, { count: 1, totalMs: 25, top: [25] });
});

test('a stall shorter than half the excess, or outside the ACK, explains nothing', () => {
  const client = [ack(1_000, 100)];
  const r = attribute(client, [], [stall(1_040, 30), stall(900, 50)], [], 2);
  assert.equal(r.channelLoop, 0);
  assert.equal(r.unexplained, 1);
});

test('slow ACKs within 50 ms of each other form one burst; GC pauses are matched against stalls', () => {
  const client = [ack(1_000, 30), ack(1_020, 30), ack(1_060, 30), ack(2_000, 30)];
  const gc = [stall(1_010, 8)];
  const r = attribute(client, [], [stall(1_012, 12)], [], 1, gc);
  assert.equal(r.bursts, 2);
  assert.deepEqual(r.gc, { count: 1, totalMs: 8, top: [8], stallMsCovered: 8 });
});
