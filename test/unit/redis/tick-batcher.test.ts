import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TickBatcher, type BatchOutcome } from '../../../src/redis/tick-batcher.js';

/** A batcher that doubles numbers, fails odd ones alone, and records its batches. */
function doubling(maxBatch?: number) {
  const batches: number[][] = [];
  const batcher = new TickBatcher<number, number>(async (inputs) => {
    batches.push(inputs);
    await Promise.resolve();
    return inputs.map((n): BatchOutcome<number> =>
      n % 2 === 0 ? { ok: true, value: n * 2 } : { ok: false, error: new Error(`odd ${n}`) },
    );
  }, maxBatch);
  return { batcher, batches };
}

test('calls of one tick, including those made by microtasks of that tick, are one batch in order', async () => {
  const { batcher, batches } = doubling();
  const first = [batcher.call(2), batcher.call(4)];
  const later = Promise.resolve().then(() => batcher.call(6));
  assert.deepEqual(await Promise.all([...first, await later]), [4, 8, 12]);
  assert.deepEqual(batches, [[2, 4, 6]]);
});

test('the next tick makes a new batch', async () => {
  const { batcher, batches } = doubling();
  await batcher.call(2);
  await new Promise((resolve) => setImmediate(resolve));
  await batcher.call(4);
  assert.deepEqual(batches, [[2], [4]]);
});

test("one input's error fails that call only", async () => {
  const { batcher } = doubling();
  const results = await Promise.allSettled([batcher.call(2), batcher.call(3), batcher.call(4)]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [4, 'odd 3', 8],
  );
});

test('a failed batch fails every call of it, and the next batch runs', async () => {
  let fail = true;
  const batcher = new TickBatcher<number, number>(async (inputs) => {
    if (fail) throw new Error('connection lost');
    return inputs.map((n) => ({ ok: true, value: n }));
  });
  const results = await Promise.allSettled([batcher.call(1), batcher.call(2)]);
  assert.deepEqual(
    results.map((r) => r.status === 'rejected' && (r.reason as Error).message),
    ['connection lost', 'connection lost'],
  );
  fail = false;
  assert.equal(await batcher.call(3), 3);
});

test('a tick with more calls than maxBatch makes several batches', async () => {
  const { batcher, batches } = doubling(3);
  const values = await Promise.all([2, 4, 6, 8, 10, 12, 14].map((n) => batcher.call(n)));
  assert.deepEqual(values, [4, 8, 12, 16, 20, 24, 28]);
  assert.deepEqual(batches, [[2, 4, 6], [8, 10, 12], [14]]);
});

test('a batch giving fewer outcomes than calls fails the calls left without one', async () => {
  const batcher = new TickBatcher<number, number>(async (inputs) => [{ ok: true, value: inputs[0]! }]);
  const results = await Promise.allSettled([batcher.call(1), batcher.call(2)]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
});
