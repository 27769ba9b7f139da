import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addInSlices } from '../../../src/queue/add-in-slices.js';

/** An add whose calls stay open until released, recording slices and the most open at once. */
function gatedAdd() {
  const slices: number[][] = [];
  const open: (() => void)[] = [];
  let mostOpen = 0;
  const add = (slice: number[]) => {
    slices.push(slice);
    return new Promise<void>((resolve) => {
      open.push(resolve);
      mostOpen = Math.max(mostOpen, open.length);
    });
  };
  const releaseOldest = () => open.shift()?.();
  return { add, slices, open, releaseOldest, mostOpen: () => mostOpen };
}

test('slices grow 50, 200, then 500 each, in order, covering every item once', async () => {
  const items = Array.from({ length: 1300 }, (_, i) => i);
  const slices: number[][] = [];
  await addInSlices(items, async (slice) => {
    slices.push(slice);
  });
  assert.deepEqual(
    slices.map((s) => s.length),
    [50, 200, 500, 500, 50],
  );
  assert.deepEqual(slices.flat(), items);
});

/** Lets the event loop turn a few times (addInSlices yields once between slices). */
async function turns(count = 10): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

test('the first slice goes alone; then at most four are on the way, the next when one is confirmed', async () => {
  const gate = gatedAdd();
  const items = Array.from({ length: 10 }, (_, i) => i);
  const done = addInSlices(items, gate.add, { sizes: [1] });
  await turns();
  assert.equal(gate.slices.length, 1, 'the first alone');
  gate.releaseOldest();
  await turns();
  assert.equal(gate.slices.length, 5, 'then four sent before any is confirmed');
  gate.releaseOldest();
  await turns();
  assert.equal(gate.slices.length, 6, 'one confirmed, one more sent');
  while (gate.slices.length < 10 || gate.open.length > 0) {
    gate.releaseOldest();
    await turns();
  }
  await done;
  assert.equal(gate.mostOpen(), 4);
  assert.deepEqual(gate.slices.flat(), items);
});

test('a failed slice fails the call once the others settle, and no further slice is sent', async () => {
  const sent: number[][] = [];
  const items = Array.from({ length: 20 }, (_, i) => i);
  await assert.rejects(
    addInSlices(
      items,
      async (slice) => {
        sent.push(slice);
        await new Promise((resolve) => setImmediate(resolve));
        if (slice[0] === 2) throw new Error('redis went away');
      },
      { sizes: [2], inFlight: 2 },
    ),
    /redis went away/,
  );
  assert.ok(sent.length < 10, `stopped early: ${sent.length} slices sent`);
  assert.ok(
    sent.every((s, i) => s[0] === i * 2),
    'in order',
  );
});

test('no items, no call; bad sizes and in-flight counts are refused', async () => {
  let calls = 0;
  await addInSlices([], async () => {
    calls++;
  });
  assert.equal(calls, 0);
  await assert.rejects(
    addInSlices([1], async () => undefined, { sizes: [] }),
    RangeError,
  );
  await assert.rejects(
    addInSlices([1], async () => undefined, { sizes: [0] }),
    RangeError,
  );
  await assert.rejects(
    addInSlices([1], async () => undefined, { inFlight: 0 }),
    /slices in flight/,
  );
  await assert.rejects(
    addInSlices([1], async () => undefined, { inFlight: 2.5 }),
    /slices in flight/,
  );
});
