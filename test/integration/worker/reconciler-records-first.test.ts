/**
 * A big plan is recorded whole, then enqueued: every in-flight entry is written before any job
 * exists (so a crash between the two never leaves a job the budget does not count, and the
 * in-flight count never drops to zero while the plan is still going out; the slices the queue
 * adds it in are tested in test/unit/queue/add-in-slices.test.ts).
 * Real Redis and the simulated fleet; the jobs are captured instead of going to BullMQ.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { SimulatedFleetDriver } from '../../../src/fleet/index.js';
import { parseManifests } from '../../../src/manifest/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { DesiredDaemonSet, DesiredStateReader } from '../../../src/worker/desired-state.js';
import { Reconciler, type NodeJobRequest } from '../../../src/worker/reconciler.js';
import { RolloutState } from '../../../src/worker/rollout-state.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';
import { daemonSetYaml } from '../../helpers/worker.js';

const NODES = 300;

let redis: Redis;
before(() => {
  redis = connectTestRedis();
});
after(async () => {
  await redis.quit();
});

test('a 300-node plan is recorded whole before any of its jobs is enqueued', async (t) => {
  const prefix = uniquePrefix('records-first');
  t.after(() => cleanupPrefix(redis, prefix));
  const state = new RolloutState(redis, prefix);
  const fleet = new SimulatedFleetDriver({ redis, prefix, startDelayMs: 0 });
  await fleet.initFleet(NODES);

  const daemonSet = parseManifests(daemonSetYaml({ maxUnavailable: '100%' })).daemonSets[0]!;
  const desired: DesiredDaemonSet = {
    key: 'default/agent',
    namespace: 'default',
    name: 'agent',
    daemonSet,
    updateRevision: 'rev1',
    updateRevisionNumber: 1,
    generation: 1,
    templateGeneration: 1,
    createdAt: new Date(0).toISOString(),
    errors: [],
    deleted: false,
  };
  const reader: DesiredStateReader = {
    list: () => Promise.resolve([desired.key]),
    get: () => Promise.resolve(desired),
    history: () => Promise.resolve([]),
    forget: () => Promise.resolve(),
    sourceCondition: () => Promise.resolve(undefined),
  };

  const chunks: { size: number; recordedBefore: number }[] = [];
  const reconciler = new Reconciler({
    state,
    desired: reader,
    fleet,
    logger: createLogger({ level: 'silent' }),
    enqueueNodeJobs: async (jobs: NodeJobRequest[]) => {
      if (jobs.length === 0) return;
      const recorded = await state.inflight(desired.key);
      for (const job of jobs) assert.equal(recorded.get(job.data.node)?.jobId, job.id, 'recorded before its job');
      chunks.push({ size: jobs.length, recordedBefore: recorded.size });
    },
  });

  const outcome = await reconciler.reconcile(desired.key);
  assert.equal(outcome.kind, 'planned');
  assert.deepEqual(chunks, [{ size: 300, recordedBefore: 300 }]);
});
