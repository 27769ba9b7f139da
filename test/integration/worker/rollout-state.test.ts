/**
 * RolloutState against the real Redis: the one-script finish of a node update, the fenced plan
 * commit and the lock, all run by SHA and reloaded after `SCRIPT FLUSH`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Redis } from 'ioredis';
import { RolloutState, type InflightEntry } from '../../../src/worker/rollout-state.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';

const DS = 'kube-system/agent';

let redis: Redis;

before(() => {
  redis = connectTestRedis();
});

after(async () => {
  await redis.quit();
});

function useState(t: TestContext): RolloutState {
  const prefix = uniquePrefix('rollout-state');
  t.after(() => cleanupPrefix(redis, prefix));
  return new RolloutState(redis, prefix);
}

const entry = (jobId: string): InflightEntry => ({ jobId, revision: 'abc', mode: 'replace', since: 1 });
const created = (i: number) => ({
  type: 'Normal' as const,
  reason: 'SuccessfulCreate',
  message: `Created pod: agent-${i}`,
  from: 'daemonset-controller',
});

/** Records `entries` under a freshly taken plan lock. */
async function record(state: RolloutState, entries: Record<string, InflightEntry>): Promise<void> {
  const done = await state.withLock(state.keys.planLock(DS), 5000, (token) =>
    state.commitPlan(DS, token, new Map(Object.entries(entries))),
  );
  assert.equal(done, true);
}

describe('RolloutState.finishNodeUpdate', () => {
  test("removes the node's entry only for the job that owns it, and counts what is left", async (t) => {
    const state = useState(t);
    await record(state, { 'node-1': entry('job-1'), 'node-2': entry('job-2') });

    const stranger = await state.finishNodeUpdate(DS, 'node-1', 'job-old', []);
    assert.deepEqual(stranger, { removed: false, inflightLeft: 2, waiting: 1 });

    const owner = await state.finishNodeUpdate(DS, 'node-1', 'job-1', []);
    assert.equal(owner.removed, true);
    assert.equal(owner.inflightLeft, 1);
    assert.deepEqual([...(await state.inflight(DS)).keys()], ['node-2']);

    const gone = await state.finishNodeUpdate(DS, 'node-1', 'job-1', []);
    assert.equal(gone.removed, false);
  });

  test('reads the waiting count the last reconcile wrote; unknown counts as waiting', async (t) => {
    const state = useState(t);
    assert.equal((await state.finishNodeUpdate(DS, 'node-1', 'job-1', [])).waiting, 1);
    await state.setWaiting(DS, 0);
    assert.equal((await state.finishNodeUpdate(DS, 'node-1', 'job-1', [])).waiting, 0);
    await state.setWaiting(DS, 7);
    assert.equal((await state.finishNodeUpdate(DS, 'node-1', 'job-1', [])).waiting, 7);
  });

  test('records the events in order and keeps the last 50 durations', async (t) => {
    const state = useState(t);
    await state.finishNodeUpdate(
      DS,
      'node-1',
      'job-1',
      [
        {
          type: 'Normal',
          reason: 'SuccessfulDelete',
          message: 'Deleted pod: agent-b4c5d',
          from: 'daemonset-controller',
        },
        {
          type: 'Normal',
          reason: 'SuccessfulCreate',
          message: 'Created pod: agent-x9z2k',
          from: 'daemonset-controller',
        },
      ],
      1234.4,
    );
    const events = await state.events(DS);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason, e.message, e.from]),
      [
        ['Normal', 'SuccessfulDelete', 'Deleted pod: agent-b4c5d', 'daemonset-controller'],
        ['Normal', 'SuccessfulCreate', 'Created pod: agent-x9z2k', 'daemonset-controller'],
      ],
    );
    assert.ok(events.every((e) => e.ts > 0));
    assert.deepEqual(await state.nodeDurations(DS), [1234]);

    for (let i = 0; i < 60; i++) await state.finishNodeUpdate(DS, `node-${i}`, 'job', [], i);
    const durations = await state.nodeDurations(DS);
    assert.equal(durations.length, 50);
    assert.deepEqual(durations.slice(-2), [58, 59]);
  });

  test('after nine of a reason, node events are combined into one counted event (Kubernetes aggregation)', async (t) => {
    const state = useState(t);
    // One batch (one script run) and single calls from the delayed-readiness path add to the same one.
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => state.finishNodeUpdate(DS, `node-${i}`, `job-${i}`, [created(i)])),
    );
    await state.recordNodeEvents(DS, [created(12), created(13)]);
    const events = await state.events(DS);
    assert.equal(events.length, 10);
    assert.deepEqual(
      events.slice(0, 9).map((e) => [e.message, e.count]),
      Array.from({ length: 9 }, (_, i) => [`Created pod: agent-${i}`, undefined]),
    );
    const combined = events[9]!;
    assert.equal(combined.message, '(combined from similar events): Created pod: agent-13');
    assert.equal(combined.reason, 'SuccessfulCreate');
    assert.equal(combined.count, 5);
    assert.ok(combined.firstTs! <= combined.ts);
    assert.equal(await redis.xlen(state.keys.events(DS)), 9, 'the stream holds only the single ones');
  });

  test('a corrupt combined-event record is started over, not fatal', async (t) => {
    const state = useState(t);
    await state.recordNodeEvents(
      DS,
      Array.from({ length: 9 }, (_, i) => created(i)),
    );
    await redis.hset(state.keys.eventAggregates(DS), 'Normal\tSuccessfulCreate\tdaemonset-controller', '{oops');
    await state.recordNodeEvents(DS, [created(9)]);
    const last = (await state.events(DS)).at(-1)!;
    assert.equal(last.count, 1);
    assert.equal(last.message, '(combined from similar events): Created pod: agent-9');
  });

  test('a job that ended without updating records no duration', async (t) => {
    const state = useState(t);
    await state.finishNodeUpdate(DS, 'node-1', 'job-1', []);
    assert.deepEqual(await state.nodeDurations(DS), []);
  });

  test('a corrupt entry is left alone (the planner ignores it and counts the node by its pods)', async (t) => {
    const state = useState(t);
    await redis.hset(state.keys.inflight(DS), 'node-1', '{not json');
    const result = await state.finishNodeUpdate(DS, 'node-1', 'job-1', []);
    assert.equal(result.removed, false);
    assert.equal(result.inflightLeft, 1);
  });
});

describe('RolloutState: calls of one tick are batched', () => {
  test('finishes and lookups of two DaemonSets in one tick each get their own answer', async (t) => {
    const state = useState(t);
    const other = 'kube-system/logs';
    await record(state, { 'node-1': entry('job-1'), 'node-2': entry('job-2'), 'node-3': entry('job-3') });
    const done = await state.withLock(state.keys.planLock(other), 5000, (token) =>
      state.commitPlan(other, token, new Map([['node-1', entry('logs-1')]])),
    );
    assert.equal(done, true);

    const lookups = await Promise.all([
      state.inflightEntry(DS, 'node-2'),
      state.inflightEntry(other, 'node-1'),
      state.inflightEntry(DS, 'node-9'),
    ]);
    assert.deepEqual(
      lookups.map((e) => e?.jobId),
      ['job-2', 'logs-1', undefined],
    );

    const event = { type: 'Normal', reason: 'SuccessfulCreate', from: 'daemonset-controller' } as const;
    const results = await Promise.all([
      state.finishNodeUpdate(DS, 'node-1', 'job-1', [{ ...event, message: 'Created pod: a' }], 10),
      state.finishNodeUpdate(DS, 'node-2', 'job-old', [], 20),
      state.finishNodeUpdate(other, 'node-1', 'logs-1', [{ ...event, message: 'Created pod: l' }], 30),
      state.finishNodeUpdate(DS, 'node-3', 'job-3', [{ ...event, message: 'Created pod: c' }]),
    ]);
    assert.deepEqual(
      results.map((r) => [r.removed, r.inflightLeft]),
      [
        [true, 1],
        [false, 1],
        [true, 0],
        [true, 1],
      ],
    );
    assert.deepEqual([...(await state.inflight(DS)).keys()], ['node-2']);
    assert.deepEqual(
      (await state.events(DS)).map((e) => e.message),
      ['Created pod: a', 'Created pod: c'],
    );
    assert.deepEqual(await state.nodeDurations(DS), [10, 20]);
    assert.deepEqual(await state.nodeDurations(other), [30]);
  });
});

describe('RolloutState scripts run by SHA', () => {
  test('work again after the server forgot every script (SCRIPT FLUSH, as after a Redis restart)', async (t) => {
    const state = useState(t);
    await record(state, { 'node-1': entry('job-1') });
    await redis.script('FLUSH');
    await record(state, { 'node-2': entry('job-2') });
    await redis.script('FLUSH');
    const result = await state.finishNodeUpdate(DS, 'node-1', 'job-1', [], 5);
    assert.equal(result.removed, true);
    assert.deepEqual([...(await state.inflight(DS)).keys()], ['node-2']);
  });

  test('a plan commit after the lock was lost writes nothing', async (t) => {
    const state = useState(t);
    const outcome = await state.withLock(state.keys.planLock(DS), 5000, async (token) => {
      await redis.set(state.keys.planLock(DS), 'someone-else');
      return state.commitPlan(DS, token, new Map([['node-1', entry('job-1')]]));
    });
    assert.equal(outcome, false);
    assert.equal((await state.inflight(DS)).size, 0);
    // The release is fenced too: the other holder keeps its lock.
    assert.equal(await redis.get(state.keys.planLock(DS)), 'someone-else');
  });
});
