/**
 * rollout10k and perNodeMs: a real worker (in this process) on a simulated fleet, and raw BullMQ
 * moving the same number of no-op jobs through one queue with the same concurrency, in one run.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadWorkerConfig } from '../src/config/worker-config.js';
import type { DaemonSetView } from '../src/domain/views.js';
import { createLogger } from '../src/observability/logger.js';
import { startWorker } from '../src/worker/main.js';
import { REDIS_URL, benchPrefix, cleanupPrefix, commit, daemonSet, makeRepo, settle, tempDir, waitFor } from './lib.js';

/**
 * Node jobs in flight, the same for the floor and the worker. Raw BullMQ is as fast at 100, 200 or
 * 400 here (no-op jobs); a node job makes three Redis round trips, so the worker needs more of them
 * in flight to keep both CPUs busy. `npm run bench -- --concurrency=N` changes it.
 */
export const NODE_CONCURRENCY = 200;

/** Raw BullMQ: `jobs` no-op jobs added in bulk, one Worker with `concurrency`, until all completed. */
export async function bullmqFloorMs(jobs: number, concurrency = NODE_CONCURRENCY): Promise<number> {
  const prefix = benchPrefix('floor');
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue('floor', { connection, prefix: `{${prefix}}` });
  const redis = new Redis(REDIS_URL);
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));
  const worker = new Worker('floor', async () => undefined, {
    connection,
    prefix: `{${prefix}}`,
    concurrency,
    autorun: false,
  });
  worker.on('completed', () => {
    if (++done === jobs) finished();
  });
  await settle();
  const started = performance.now();
  for (let i = 0; i < jobs; i += 500) {
    await queue.addBulk(
      Array.from({ length: Math.min(500, jobs - i) }, (_, k) => ({
        name: 'noop',
        data: { i: i + k },
        opts: { jobId: `job|${i + k}`, removeOnComplete: true },
      })),
    );
  }
  void worker.run();
  await allDone;
  const ms = performance.now() - started;
  await worker.close();
  await queue.close();
  await cleanupPrefix(redis, prefix);
  await redis.quit();
  return ms;
}

export interface RolloutResult {
  ms: number;
  nodes: number;
}

/** Wall time from asking the worker to sync a commit to every node available on the new revision. */
export async function measureRollout(
  nodes: number,
  maxUnavailable: number | string,
  concurrency = NODE_CONCURRENCY,
): Promise<RolloutResult> {
  const prefix = benchPrefix('rollout');
  const repo = makeRepo({ 'agent.yaml': daemonSet('agent', 'registry.example/agent:1', maxUnavailable) });
  const config = loadWorkerConfig(
    {
      repo,
      dataDir: tempDir('data'),
      redis: REDIS_URL,
      prefix,
      listen: '127.0.0.1:0',
      fleet: `sim:${nodes}`,
      simStartDelay: '0ms',
      pollInterval: '1h',
      nodeConcurrency: concurrency,
      logLevel: 'warn',
    },
    {},
  );
  const worker = await startWorker(config, createLogger({ level: 'warn', name: 'bench' }));
  const redis = new Redis(REDIS_URL);
  const view = async () => {
    const res = await fetch(`${worker.url}/api/v1/namespaces/default/daemonsets/agent`);
    return res.ok ? ((await res.json()) as DaemonSetView) : undefined;
  };
  const rolledOut = (v: DaemonSetView | undefined, revision: number) =>
    !!v &&
    v.status.updateRevisionNumber === revision &&
    v.status.desiredNumberScheduled === nodes &&
    v.status.updatedNumberScheduled === nodes &&
    v.status.numberAvailable === nodes;
  try {
    await waitFor('initial rollout', async () => rolledOut(await view(), 1), 600_000, 100);
    await settle();
    commit(repo, { 'agent.yaml': daemonSet('agent', 'registry.example/agent:2', maxUnavailable) }, 'agent 2');
    const startedAt = Date.now();
    await worker.runtime.requestSync({ reason: 'api' });
    // Poll gently: the worker runs in this process, and each look costs it a status read and a
    // response. The time itself comes from the fleet's timeline: the moment the last node's new
    // pod became ready (minReadySeconds is 0, so that is "available"), whenever the poll sees it.
    const done = await waitFor(
      'rollout of revision 2',
      async () => {
        const v = await view();
        return rolledOut(v, 2) && v;
      },
      600_000,
      500,
    );
    const entries = (await (await fetch(`${worker.url}/api/v1/sim/timeline?sinceTs=${startedAt}`)).json()) as {
      ts: number;
      event: string;
      revision: string;
    }[];
    const ready = entries.filter((e) => e.event === 'ready' && e.revision === done.status.updateRevision);
    if (ready.length !== nodes) throw new Error(`bench: ${ready.length} of ${nodes} nodes got a ready pod`);
    const ms = Math.max(...ready.map((e) => e.ts)) - startedAt;
    if (process.env.DSCTL_BENCH_DEBUG) {
      const first = entries.find((e) => e.event === 'deleted');
      console.error(`debug: first delete +${first ? first.ts - startedAt : '?'}ms, last ready +${ms}ms`);
    }
    return { ms, nodes };
  } finally {
    await worker.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
  }
}
