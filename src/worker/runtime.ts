/**
 * The worker process's moving parts on BullMQ: a Git sync queue (a job scheduler polls, webhooks
 * and startup add deduplicated one-off syncs), a reconcile queue (one deduplicated job per
 * DaemonSet, never two at once), and the node-update queue (one job per node and revision).
 *
 * Every replica runs all three workers against the same Redis; BullMQ's locks and stall recovery
 * hand a dead replica's jobs to the living ones.
 */
import { DelayedError, Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { addInSlices } from '../queue/add-in-slices.js';
import type { NodeJobData, ReconcileJobData, SyncJobData } from '../queue/jobs.js';
import {
  JOB_RECONCILE,
  JOB_SYNC,
  JOB_UPDATE_NODE,
  QUEUE_GIT_SYNC,
  QUEUE_NODE_UPDATE,
  QUEUE_RECONCILE,
  SCHEDULER_POLL,
  SYNC_DEDUP_ID,
  reconcileDedupId,
} from '../queue/names.js';
import type { SyncTrigger } from './control-plane.js';
import { ReconcileDebouncer, type ReconcileUrgency } from './reconcile-debouncer.js';
import type { NodeJobRequest, Reconciler } from './reconciler.js';

export interface SourceSyncResult {
  /** DaemonSets whose desired state or revision changed, or that were deleted. */
  changed: string[];
}

export interface RuntimeOptions {
  connection: ConnectionOptions;
  /** A plain client (not BullMQ's) for the worker's own keys. */
  redis: Redis;
  bullPrefix: string;
  logger: Logger;
  pollIntervalMs: number;
  /** Runs one Git sync (serialised across replicas by the caller's lock) and says what changed. */
  syncSource(trigger: SyncTrigger): Promise<SourceSyncResult | 'busy'>;
  /** Every DaemonSet known, for the fallback reconcile after each poll. */
  listDaemonSets(): Promise<string[]>;
  reconciler: Reconciler;
  processNodeJob(job: Job<NodeJobData>, token?: string): Promise<unknown>;
  onSyncDone?(seconds: number, ok: boolean): void;
  onReconcile?(result: string): void;
  /** Node jobs one replica runs at once (waiting jobs hold no slot). @defaultValue 50 */
  nodeConcurrency?: number;
  /** Reconciles one replica runs at once (each may hold a 10,000-node snapshot). @defaultValue 4 */
  reconcileConcurrency?: number;
  /** BullMQ lock duration; a dead replica's jobs are taken over after about this long. @defaultValue 10000 */
  lockDurationMs?: number;
}

const WATCHDOG_INTERVAL_MS = 5000;
const NODE_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  // Failed ids must not block a later re-plan of the same node (BullMQ keeps ids of failed jobs).
  removeOnFail: true,
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
};

export class WorkerRuntime {
  readonly syncQueue: Queue<SyncJobData>;
  readonly reconcileQueue: Queue<ReconcileJobData>;
  readonly nodeQueue: Queue<NodeJobData>;
  private readonly workers: Worker[] = [];
  private watchdog?: NodeJS.Timeout;
  private readonly debouncer = new ReconcileDebouncer((daemonSet, reason) =>
    this.requestReconcile(daemonSet, reason).catch((err: unknown) =>
      this.opts.logger.warn({ err, daemonSet }, 'could not request a reconcile'),
    ),
  );

  constructor(private readonly opts: RuntimeOptions) {
    const base = { connection: opts.connection, prefix: opts.bullPrefix };
    this.syncQueue = new Queue(QUEUE_GIT_SYNC, base);
    this.reconcileQueue = new Queue(QUEUE_RECONCILE, base);
    this.nodeQueue = new Queue(QUEUE_NODE_UPDATE, base);
    for (const q of [this.syncQueue, this.reconcileQueue, this.nodeQueue]) {
      q.on('error', (err) => opts.logger.error({ err, queue: q.name }, 'queue error'));
    }
  }

  async start(): Promise<void> {
    const { opts } = this;
    const lockDuration = opts.lockDurationMs ?? 10000;
    const workerBase = {
      connection: opts.connection,
      prefix: opts.bullPrefix,
      lockDuration,
      stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
      maxStalledCount: 50,
    };
    await this.ensurePollScheduler();
    // Self-healing: if the prefix's keys were wiped (or the scheduler removed), put the poll back.
    this.watchdog = setInterval(() => {
      this.ensurePollScheduler().catch((err: unknown) => opts.logger.warn({ err }, 'poll scheduler check failed'));
    }, WATCHDOG_INTERVAL_MS);
    this.watchdog.unref();

    this.workers.push(
      new Worker<SyncJobData>(QUEUE_GIT_SYNC, (job, token) => this.runSync(job, token), {
        ...workerBase,
        concurrency: 1,
      }),
      new Worker<ReconcileJobData>(QUEUE_RECONCILE, (job, token) => this.runReconcile(job, token), {
        ...workerBase,
        concurrency: opts.reconcileConcurrency ?? 4,
      }),
      new Worker<NodeJobData>(QUEUE_NODE_UPDATE, (job, token) => opts.processNodeJob(job, token), {
        ...workerBase,
        concurrency: opts.nodeConcurrency ?? 50,
      }),
    );
    for (const w of this.workers) {
      w.on('error', (err) => opts.logger.error({ err, queue: w.name }, 'worker error'));
      w.on('failed', (job, err) =>
        opts.logger.warn({ queue: w.name, jobId: job?.id, err: err.message }, 'job attempt failed'),
      );
    }
    // A replica that starts catches up on pushes it missed.
    await this.requestSync({ reason: 'startup' });
  }

  private async ensurePollScheduler(): Promise<void> {
    if (await this.syncQueue.getJobScheduler(SCHEDULER_POLL)) return;
    await this.syncQueue.upsertJobScheduler(
      SCHEDULER_POLL,
      { every: this.opts.pollIntervalMs },
      { name: JOB_SYNC, data: { trigger: { reason: 'poll' } } },
    );
  }

  /** Coalesces: while a sync runs, further requests collapse into one more sync of the newest tip. */
  async requestSync(trigger: SyncTrigger): Promise<void> {
    await this.syncQueue.add(
      JOB_SYNC,
      { trigger },
      { deduplication: { id: SYNC_DEDUP_ID, keepLastIfActive: true }, removeOnComplete: true, removeOnFail: 100 },
    );
  }

  /** For node jobs finishing by the thousand: debounced per DaemonSet (see {@link ReconcileDebouncer}). */
  requestReconcileSoon(daemonSet: string, reason: string, urgency: ReconcileUrgency = 'soon'): Promise<void> {
    this.debouncer.request(daemonSet, reason, urgency);
    return Promise.resolve();
  }

  async requestReconcile(daemonSet: string, reason: string, delayMs = 0): Promise<void> {
    const dedup = delayMs > 0 ? `${reconcileDedupId(daemonSet)}|later` : reconcileDedupId(daemonSet);
    await this.reconcileQueue.add(
      JOB_RECONCILE,
      { daemonSet, reason },
      {
        deduplication: delayMs > 0 ? { id: dedup, ttl: delayMs } : { id: dedup, keepLastIfActive: true },
        delay: delayMs > 0 ? delayMs : undefined,
        removeOnComplete: true,
        removeOnFail: 100,
      },
    );
  }

  async enqueueNodeJobs(jobs: NodeJobRequest[]): Promise<void> {
    await addInSlices(jobs, (slice) =>
      this.nodeQueue.addBulk(
        slice.map((j) => ({ name: JOB_UPDATE_NODE, data: j.data, opts: { ...NODE_JOB_OPTIONS, jobId: j.id } })),
      ),
    );
  }

  private async runSync(job: Job<SyncJobData>, token?: string): Promise<unknown> {
    const started = performance.now();
    let result: SourceSyncResult | 'busy';
    try {
      result = await this.opts.syncSource(job.data.trigger);
    } catch (err) {
      this.opts.onSyncDone?.((performance.now() - started) / 1000, false);
      throw err;
    }
    if (result === 'busy') {
      // Another replica syncs right now; look again shortly so this request's commit is not lost.
      await job.moveToDelayed(Date.now() + 250, token);
      throw new DelayedError();
    }
    this.opts.onSyncDone?.((performance.now() - started) / 1000, true);
    const everything = job.data.trigger.reason === 'poll' || job.data.trigger.reason === 'startup';
    // Polling is the fallback: it looks at every DaemonSet, not only the changed ones.
    const targets = new Set([...result.changed, ...(everything ? await this.opts.listDaemonSets() : [])]);
    for (const ds of targets) await this.requestReconcile(ds, 'git sync');
    return { changed: result.changed.length };
  }

  private async runReconcile(job: Job<ReconcileJobData>, token?: string): Promise<unknown> {
    const ds = job.data.daemonSet;
    // Any reconcile that got the lock writes the status: refresh-only requests count from its end.
    const outcome = await this.debouncer.around(
      ds,
      () => this.opts.reconciler.reconcile(ds),
      (result) => result.kind !== 'locked',
    );
    this.opts.onReconcile?.(outcome.kind);
    if (outcome.kind === 'locked') {
      await job.moveToDelayed(Date.now() + 100, token);
      throw new DelayedError();
    }
    if (outcome.kind === 'planned' && outcome.requeueAfterMs !== null) {
      await this.requestReconcile(ds, 'minReadySeconds', outcome.requeueAfterMs + 5);
    }
    if (outcome.kind === 'deleted' && outcome.remainingPods > 0) {
      await this.requestReconcile(ds, 'deletion pending', 1000);
    }
    return outcome;
  }

  async queueCounts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const q of [this.syncQueue, this.reconcileQueue, this.nodeQueue]) {
      out[q.name] = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    }
    return out;
  }

  /** Stops taking jobs, lets active ones finish (bounded by the caller), then closes queues. */
  async close(): Promise<void> {
    clearInterval(this.watchdog);
    this.debouncer.close();
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([this.syncQueue.close(), this.reconcileQueue.close(), this.nodeQueue.close()]);
  }
}
