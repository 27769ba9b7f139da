/**
 * Composition root of `dsctl worker`: builds Redis clients, the fleet driver, the Git sync, the
 * reconciler, the BullMQ runtime and the HTTP server, and wires their seams together.
 */
import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/worker-config.js';
import { SimulatedFleetDriver } from '../fleet/simulated/simulated-fleet-driver.js';
import { buildServer } from '../http/server.js';
import { mountQueueDashboard } from '../http/queue-dashboard.js';
import { Metrics } from '../observability/metrics.js';
import { RedisHistoryStore } from '../revision/store.js';
import { GitSync } from '../source/git-sync.js';
import { SimpleGitSource, repoCacheDir } from '../source/simple-git-source.js';
import { sshCommandOf, WorkerGitOps } from '../gitops/worker-gitops.js';
import { AutoRollback } from './auto-rollback.js';
import { GitDesiredState } from './git-desired-state.js';
import { workerKeys } from './keys.js';
import { createNodeJobProcessor } from './node-update.js';
import { Reconciler } from './reconciler.js';
import { RedisControlPlane } from './redis-control-plane.js';
import { RolloutState } from './rollout-state.js';
import { WorkerRuntime } from './runtime.js';
import { redactUrl } from '../observability/logger.js';

export interface WorkerHandle {
  /** `http://host:port` the API listens on. */
  url: string;
  runtime: WorkerRuntime;
  metrics: Metrics;
  close(): Promise<void>;
}

/**
 * Which repository pushes must come from: the clone URL and `--webhook-repo`. A repository given
 * as a local path has no URL a Git host would send, so without `--webhook-repo` any repository's
 * push to the branch counts (the signature still has to be right).
 */
function webhookRepoOf(config: WorkerConfig): { cloneUrls: string[]; fullNames: string[] } | undefined {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(config.repo) || /^[^/]+@[^/]+:/.test(config.repo);
  if (!isUrl && !config.webhookRepo) return undefined;
  return { cloneUrls: isUrl ? [config.repo] : [], fullNames: config.webhookRepo ? [config.webhookRepo] : [] };
}

export async function startWorker(config: WorkerConfig, logger: Logger): Promise<WorkerHandle> {
  // One client for dsctl's own keys (fails fast when Redis is gone), BullMQ gets the URL and makes its own.
  // No auto-pipelining: holding a tick's commands for one write made Redis and this process take
  // turns (10,000-node rollout 2,405 vs 2,144 ms, median of 5 alternating runs); sent at once,
  // Redis works on them while this process handles the next replies.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`no Redis answers at ${redactUrl(config.redisUrl)}: ${(err as Error).message}`, { cause: err });
  }
  const connection = { url: config.redisUrl, maxRetriesPerRequest: null } as const;
  const keys = workerKeys(config.prefix);
  const metrics = new Metrics();

  const fleet = new SimulatedFleetDriver({
    redis,
    prefix: config.prefix,
    startDelayMs: config.simStartDelayMs,
    failImage: config.simFailImage,
  });
  await SimulatedFleetDriver.init(redis, config.prefix, config.fleet.nodes);

  await mkdir(config.dataDir, { recursive: true });
  const store = new RedisHistoryStore(redis, { prefix: config.prefix });
  const sshCommand = sshCommandOf({ sshKey: config.sshKey, sshCommand: config.gitSshCommand });
  const source = new SimpleGitSource({
    url: config.repo,
    branch: config.branch,
    dir: repoCacheDir(config.dataDir, config.repo),
    ...(config.gitToken ? { token: config.gitToken } : {}),
    ...(sshCommand ? { sshCommand } : {}),
  });
  const gitSync = new GitSync({ source, store, path: config.path === '.' ? '' : config.path, prune: config.prune });
  const desired = new GitDesiredState(store, redis, config.prefix);
  const state = new RolloutState(redis, config.prefix);
  let synced = false;

  // eslint-disable-next-line prefer-const -- the runtime and the reconciler refer to each other
  let runtime: WorkerRuntime;
  // Changes written to Git (rollback, set image, pause) and the worker's own rollbacks (issue 6).
  const gitOps = new WorkerGitOps({
    repo: config.repo,
    branch: config.branch,
    path: config.path,
    dataDir: config.dataDir,
    identity: { name: config.gitAuthorName, email: config.gitAuthorEmail },
    ...(config.gitToken ? { token: config.gitToken } : {}),
    ...(sshCommand ? { sshCommand } : {}),
    redis,
    prefix: config.prefix,
    store,
    logger,
    requestSync: (trigger) => runtime.requestSync(trigger),
    runtimePause: (ref, paused): Promise<boolean> => controlPlane.setPaused(ref, paused),
    isRuntimePaused: (key) => state.isPaused(key),
    recordEvent: (key, event) => state.recordEvent(key, event),
  });
  const autoRollback = new AutoRollback({
    redis,
    prefix: config.prefix,
    writer: gitOps.service,
    recordEvent: (key, event) => state.recordEvent(key, event),
    requestReconcile: (key, reason) => runtime.requestReconcile(key, reason),
    requestSync: (trigger) => runtime.requestSync(trigger),
    logger,
  });
  const reconciler = new Reconciler({
    planLockTtlMs: config.lockDurationMs,
    state,
    desired,
    fleet,
    logger,
    metrics,
    enqueueNodeJobs: (jobs) => runtime.enqueueNodeJobs(jobs),
    hook: autoRollback,
  });
  const processNodeJob = createNodeJobProcessor({
    state,
    desired,
    fleet,
    logger,
    requestReconcile: (ds, reason, urgency) => runtime.requestReconcileSoon(ds, reason, urgency),
    observe: (seconds, outcome) => metrics.observeNodeJob(seconds, outcome),
  });

  runtime = new WorkerRuntime({
    connection,
    redis,
    bullPrefix: keys.bullPrefix,
    logger,
    pollIntervalMs: config.pollIntervalMs,
    reconciler,
    processNodeJob,
    listDaemonSets: () => desired.list(),
    nodeConcurrency: config.nodeConcurrency,
    lockDurationMs: config.lockDurationMs,
    onSyncDone: (seconds, ok) => metrics.observeGitPoll(seconds, ok),
    onReconcile: (result) => metrics.countReconcile(result),
    syncSource: async (trigger) => {
      // Replicas may share a data dir (one clone); one Git sync at a time across all of them.
      // The lock is renewed while the sync runs: a replica killed mid-sync blocks the others briefly.
      return state.withLock(keys.gitLock, Math.max(config.lockDurationMs, 2000), async () => {
        // A push (webhook) or an explicit request (API/CLI) fetches now, even while polls back off after failures.
        const result = await gitSync.sync({ force: trigger.reason === 'webhook' || trigger.reason === 'api' });
        synced = true;
        if (result.rebuilt) logger.warn({ reason: result.reason, head: result.head }, 'history rebuilt from Git');
        if (result.outcome === 'fetch-failed') logger.warn({ message: result.condition.message }, 'git fetch failed');
        logger.info(
          { trigger: trigger.reason, outcome: result.outcome, head: result.head, commits: result.commits },
          'git sync',
        );
        for (const change of result.changes) {
          if (result.rebuilt) {
            await state.recordEvent(change.key, {
              type: 'Warning',
              reason: result.reason ?? 'HistoryRebuilt',
              message: `history rebuilt from Git (${result.reason ?? 'rebuild'}); head ${result.head?.slice(0, 7)}`,
              from: 'dsctl-git',
            });
          }
        }
        return { changed: result.changes.map((c) => c.key) };
      });
    },
  });
  metrics.setQueueDepthCollector(() => runtime.queueCounts());

  const controlPlane: RedisControlPlane = new RedisControlPlane({
    redis,
    desired,
    state,
    fleet,
    requestSync: (trigger) => runtime.requestSync(trigger),
    requestReconcile: (ds, reason) => runtime.requestReconcile(ds, reason),
    synced: () => synced,
    gitOps,
  });
  const server = buildServer({
    controlPlane,
    token: config.token,
    webhookSecret: config.webhookSecret,
    webhookRepo: webhookRepoOf(config),
    branch: config.branch,
    metrics,
    logger,
    extraRoutes: (app) =>
      mountQueueDashboard(app, [runtime.syncQueue, runtime.reconcileQueue, runtime.nodeQueue], config.token),
  });

  await runtime.start();
  await server.listen({ host: config.listenHost, port: config.listenPort });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : config.listenPort;
  const host = config.listenHost === '0.0.0.0' ? '127.0.0.1' : config.listenHost;
  logger.info({ url: `http://${host}:${port}`, repo: redactUrl(config.repo), branch: config.branch }, 'worker started');

  return {
    url: `http://${host}:${port}`,
    runtime,
    metrics,
    async close() {
      await server.close();
      await autoRollback.close();
      await runtime.close();
      await redis.quit();
    },
  };
}
