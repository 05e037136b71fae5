import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { Channel, type ChannelHooks } from '../src/channel/channel.js';
import { validateConfig } from '../src/config/validate.js';
import { EdgeError } from '../src/errors.js';
import { MessageSink } from '../src/message/message-sink.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { Publisher, mqttClientOptions } from '../src/mqtt/publisher.js';
import { makeTopics } from '../src/mqtt/topics.js';
import { DecodePool } from '../src/pool/decode-pool.js';
import { SPLIT_NEED_MORE, type ProtocolModule, type RelayEffect } from '../src/protocol/types.js';
import { createLogger } from '../src/util/log.js';
import { sleep, waitFor } from './support/harness.js';

/**
 * The `relay` decode effect at the pipeline seam, with a toy protocol (frame [len][type][payload],
 * ident "toy-r"): the effect reaches the channel's `relay` hook, and the frame's reply waits until the
 * hook says the request is safe; with no relay hook the frame fails (never a silent drop).
 */
const toy: ProtocolModule = {
  id: 'toyrelay',
  title: 'Toy relay',
  transports: ['tcp'],
  defaultPorts: {},
  maxFrameBytes: 255,
  options: {},
  defaultOptions: {},
  split: (buf, start, end) => (end - start < 1 ? SPLIT_NEED_MORE : buf[start]! < 2 ? -1 : end - start >= buf[start]! ? buf[start]! : SPLIT_NEED_MORE),
  explainInvalid: () => ({ code: 'EDGE_FRAME_LENGTH', reason: 'never' }),
  decode: (frame) => ({
    messages: [],
    replies: [Uint8Array.of(0x11)],
    session: { ident: 'toy-r' },
    warnings: [],
    effects: [{ kind: 'relay', service: 'svc', request: { payload: Buffer.from(frame.subarray(2)).toString('hex'), finish: false }, answer: null }],
  }),
  commands: [],
  encode: () => {
    throw new EdgeError('EDGE_COMMAND_UNKNOWN', 'none');
  },
  parseCommand: () => {
    throw new EdgeError('EDGE_COMMAND_UNKNOWN', 'none');
  },
};

async function rig(hooks: ChannelHooks) {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const config = validateConfig({ mqtt: { url: broker.url, topic_root: `rs${process.pid}` }, channels: [{ id: 9, protocol: 'toyrelay', host: '127.0.0.1', tcp_port: 0 }] });
  const publisher = new Publisher(broker.url, mqttClientOptions(config.mqtt, 'relay-seam'), 100, 1000);
  await publisher.waitConnected(5000);
  const pool = new DecodePool({ threads: 'inline', maxBatchFrames: 64, maxPending: 1000 });
  const log = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  const channel = new Channel(config.channels[0]!, toy, { pool, sink: new MessageSink(publisher, makeTopics(`rs${process.pid}`)), log, hooks });
  await channel.start();
  const s = await new Promise<Socket>((resolve, reject) => {
    const x = connect({ host: '127.0.0.1', port: channel.tcpPort }, () => resolve(x));
    x.once('error', reject);
  });
  const data: Buffer[] = [];
  let closed = false;
  s.on('data', (b) => data.push(b));
  s.on('close', () => (closed = true));
  s.on('error', () => {});
  return {
    s,
    hex: () => Buffer.concat(data).toString('hex'),
    closed: () => closed,
    async close() {
      s.destroy();
      await channel.stop(1000);
      await publisher.close();
      await pool.close();
      await broker.close();
    },
  };
}

test('relay effect: the hook gets it with the ident, and the frame\'s reply waits until the request is safe', { timeout: 20_000 }, async () => {
  const seen: [string, string, RelayEffect][] = [];
  let release: (() => void) | null = null;
  const r = await rig({ relay: (ch, ident, e, done) => (seen.push([ch, ident, e]), (release = () => done(null))) });
  try {
    r.s.write(Buffer.from([4, 1, 0xab, 0xcd]));
    await waitFor('the relay hook', () => seen.length === 1, 5000);
    assert.deepEqual(seen[0]!.slice(0, 2), ['9', 'toy-r']);
    assert.deepEqual(seen[0]![2].request, { payload: 'abcd', finish: false });
    await sleep(100);
    assert.equal(r.hex(), '', 'no reply before the relay request is confirmed');
    release!();
    await waitFor('the reply', () => r.hex() === '11', 5000);
  } finally {
    await r.close();
  }
});

test('relay effect without a relay hook: the frame is not acknowledged and the connection closes', { timeout: 20_000 }, async () => {
  const r = await rig({});
  try {
    r.s.write(Buffer.from([3, 1, 0xab]));
    await waitFor('the connection to close', () => r.closed(), 5000);
    assert.equal(r.hex(), '');
  } finally {
    await r.close();
  }
});
