import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventHub, type LiveEvent, type LiveSource } from './event-hub.js';

function fakeSource() {
  const s = { starts: 0, stops: 0, emit: null as ((e: LiveEvent) => void) | null };
  const source: LiveSource = {
    async start(emit) {
      s.starts++;
      s.emit = emit;
    },
    async stop() {
      s.stops++;
      s.emit = null;
    },
  };
  return { s, source };
}

const sink = () => {
  const out: string[] = [];
  return { out, write: (c: string) => void out.push(c), pending: 0 };
};

const ev = (over: Partial<LiveEvent>): LiveEvent => ({ type: 'message', channel: '1', ident: 'a', sub: null, payload: '{"x":1}', ...over });

test('event hub: the source runs only while a client is connected (subscribed by the first, unsubscribed after the last)', async () => {
  const { s, source } = fakeSource();
  const hub = new EventHub(source, { flushMs: 1000 });
  assert.equal(hub.active, false);
  const r1 = await hub.add({ channel: null, ident: null, types: null }, sink());
  const r2 = await hub.add({ channel: null, ident: null, types: null }, sink());
  assert.equal(s.starts, 1);
  assert.equal(hub.active, true);
  r1!();
  await new Promise((r) => setImmediate(r));
  assert.equal(s.stops, 0, 'one client still looks');
  r2!();
  await hub.close();
  assert.equal(s.stops, 1);
  assert.equal(hub.active, false);
});

test('event hub: events filtered per client by channel, ident and type, written in one batch per flush; a client that stops reading is bounded and told what it missed', async () => {
  const { s, source } = fakeSource();
  const hub = new EventHub(source, { flushMs: 60_000, maxBufferBytes: 400 });
  const all = sink();
  const one = sink();
  const cmds = sink();
  await hub.add({ channel: null, ident: null, types: null }, all);
  await hub.add({ channel: '1', ident: 'b', types: null }, one);
  await hub.add({ channel: null, ident: null, types: new Set(['command']) }, cmds);
  s.emit!(ev({}));
  s.emit!(ev({ ident: 'b' }));
  s.emit!(ev({ type: 'command', ident: 'b', sub: 'processed', payload: '{"id":"c1"}' }));
  s.emit!(ev({ type: 'connection', ident: null, sub: 'identified', payload: '{"ident":"b","conn":"tcp-1"}' }));
  s.emit!(ev({ type: 'connection', ident: null, sub: 'identified', payload: '{"ident":"c","conn":"tcp-2"}' }));
  hub.flush();
  assert.equal(all.out.length, 1, 'one write per client per flush');
  assert.equal(all.out[0]!.match(/^event: /gm)!.length, 5);
  assert.equal(one.out[0]!.match(/^event: /gm)!.length, 3, 'device b: its message, its command, its connection');
  assert.match(cmds.out[0]!, /^event: command\ndata: \{"channel":"1","ident":"b","sub":"processed","payload":\{"id":"c1"\}\}\n\n$/);
  for (let i = 0; i < 20; i++) s.emit!(ev({}));
  assert.ok(hub.counters.dropped > 0, 'past the buffer cap events are dropped');
  hub.flush();
  hub.flush();
  assert.match(all.out.join(''), /event: dropped\ndata: \{"count":\d+\}/);
  await hub.close();
});
