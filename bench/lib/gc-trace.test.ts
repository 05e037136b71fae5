import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scavengePromotions } from './gc-trace.js';

test("the main isolate's scavenges: the isolate with most of them, full collections left out", () => {
  const trace = [
    '[11:0x1]       40 ms: pause=1.4 mutator=39.9 gc=s reduce_memory=0 allocated=100 promoted=524304 new_space_survived=1',
    '[11:0x7f2]     41 ms: pause=0.4 mutator=1 gc=s reduce_memory=0 promoted=9',
    '[11:0x1]       90 ms: pause=7.6 mutator=62.0 gc=mc reduce_memory=0 promoted=3561992',
    '[11:0x1]      120 ms: pause=1.0 mutator=3.6 gc=s reduce_memory=0 fast_promote=0.00 nodes_promoted=1 promoted=2048',
    'not a trace line',
  ].join('\n');
  assert.deepEqual(scavengePromotions(trace), [524304, 2048]);
  assert.deepEqual(scavengePromotions(''), []);
});
