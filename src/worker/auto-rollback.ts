/**
 * Auto-rollback: a DaemonSet annotated `dsctl.dev/auto-rollback: "true"` and `dsctl.dev/progress-deadline-seconds:
 * "N"` whose rollout makes no progress for N seconds (`Progressing=False ProgressDeadlineExceeded`), or whose new pods
 * fail (phase `Failed`) on as many nodes as `maxUnavailable`, is rolled back by the worker itself: a commit through
 * the same writer as `rollout undo` (trailers `Auto-Rollback: <reason>`, `Rollback-Of-Revision-Hash: <hash>`), a
 * Warning event `AutoRollback`, and an `AutoRolledBack` condition saying why.
 *
 * Invariants:
 * - at most one rollback per bad revision, across replicas and restarts: a Redis marker keyed by DaemonSet and
 *   revision hash is taken with SET NX before anything is written ("pending" with a TTL, so a replica that dies mid-way
 *   does not block it forever; "done" afterwards);
 * - the target is never a revision that was itself rolled back automatically: those are read back from the
 *   `Auto-Rollback` trailers in Git (so the rule survives the loss of Redis);
 * - the reconcile is never slowed down by Git: the rollback runs detached, errors become Warning events.
 *
 * Also keeps a rollout with a progress deadline observed (a reconcile every deadline/10, 1–10 s, and one when the
 * deadline would pass), so `ProgressDeadlineExceeded` appears on time even with a long poll interval.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DaemonSet } from '../domain/kubernetes.js';
import type { Condition, EventView } from '../domain/views.js';
import type { FleetPod } from '../fleet/driver.js';
import type { AutoRollbackCause } from '../gitops/changes.js';
import type { AutoRollbackResult } from '../gitops/service.js';
import type { DaemonSetKey } from '../gitops/types.js';
import { rollingBudget } from '../rollout/budget.js';
import { ANNOTATION_AUTO_ROLLBACK, progressDeadlineOf } from './annotations.js';
import type { DesiredDaemonSet } from './desired-state.js';
import { hashTag } from './keys.js';
import type { RolloutHook } from './reconciler.js';
import type { StoredStatus } from './rollout-state.js';
import type { SyncTrigger } from './control-plane.js';

/** The reasons of an automatic rollback (trailer `Auto-Rollback`, condition and event). */
export type AutoRollbackReason = 'ProgressDeadlineExceeded' | 'NewPodsFailed';

/** Whether auto-rollback is on for a DaemonSet: both annotations set. */
export function isAutoRollbackEnabled(ds: DaemonSet): boolean {
  return ds.metadata?.annotations?.[ANNOTATION_AUTO_ROLLBACK] === 'true' && progressDeadlineOf(ds) !== undefined;
}

/**
 * Pure decision: should the update revision be rolled back now, and why. Undefined unless auto-rollback is enabled,
 * the rollout is not complete, and either the progress deadline condition is set or new pods are `Failed` on at
 * least `maxUnavailable` nodes (at least 1).
 */
export function decideAutoRollback(input: {
  daemonSet: DaemonSet;
  updateRevision: string;
  conditions: readonly Pick<Condition, 'type' | 'status' | 'reason' | 'message'>[];
  desiredNumberScheduled: number;
  pods: readonly Pick<FleetPod, 'node' | 'revision' | 'phase' | 'deleting'>[];
}): (AutoRollbackCause & { reason: AutoRollbackReason }) | undefined {
  if (!isAutoRollbackEnabled(input.daemonSet)) return undefined;
  const progressing = input.conditions.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'RolloutComplete' || progressing?.reason === 'Paused') return undefined;
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { reason: 'ProgressDeadlineExceeded', detail: progressing.message };
  }
  const failed = [
    ...new Set(
      input.pods.filter((p) => p.revision === input.updateRevision && p.phase === 'Failed').map((p) => p.node),
    ),
  ].sort();
  const budget = Math.max(1, rollingBudget(input.daemonSet, input.desiredNumberScheduled).maxUnavailable);
  if (failed.length >= budget) {
    return {
      reason: 'NewPodsFailed',
      detail: `new pods failed on ${failed.length} node(s) (maxUnavailable ${budget}): ${failed.slice(0, 10).join(', ')}`,
    };
  }
  return undefined;
}

/** What the auto-rollback needs from the Git side (the worker's `GitOpsService`). */
export interface AutoRollbackWriter {
  autoRollback(ref: DaemonSetKey, fromHash: string, cause: AutoRollbackCause): Promise<AutoRollbackResult>;
}

export interface AutoRollbackDeps {
  redis: Redis;
  prefix: string;
  writer: AutoRollbackWriter;
  recordEvent(key: string, event: Omit<EventView, 'ts'>): Promise<void>;
  requestReconcile(key: string, reason: string): Promise<void>;
  requestSync(trigger: SyncTrigger): Promise<void>;
  logger: Logger;
  /** How long a "pending" marker blocks other replicas. @defaultValue 10 minutes */
  pendingTtlMs?: number;
  /** How long after a failed attempt the next one may start. @defaultValue 60 s */
  retryAfterMs?: number;
}

/** What the worker remembers of the last automatic rollback of a DaemonSet (for the condition). */
interface LastRollback {
  fromHash: string;
  fromRevision: number;
  toHash: string;
  toRevision: number;
  reason: string;
  detail: string;
  commit: string;
  at: number;
}

const DONE_TTL_SECONDS = 30 * 24 * 3600;

/** The reconciler hook that performs auto-rollbacks. */
export class AutoRollback implements RolloutHook {
  private readonly running = new Set<Promise<void>>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(private readonly deps: AutoRollbackDeps) {}

  async conditions(desired: DesiredDaemonSet): Promise<Omit<Condition, 'lastTransitionTime'>[]> {
    if (!isAutoRollbackEnabled(desired.daemonSet)) return [];
    const raw = await this.deps.redis.get(this.lastKey(desired.key));
    if (!raw) return [];
    let last: LastRollback;
    try {
      last = JSON.parse(raw) as LastRollback;
    } catch {
      return [];
    }
    const commit = last.commit.slice(0, 7);
    if (desired.updateRevision === last.fromHash) {
      return [
        {
          type: 'AutoRolledBack',
          status: 'True',
          reason: last.reason,
          message: `rolling back from revision ${last.fromRevision} to revision ${last.toRevision} (commit ${commit}): ${last.detail}`,
        },
      ];
    }
    if (desired.updateRevision === last.toHash) {
      return [
        {
          type: 'AutoRolledBack',
          status: 'True',
          reason: last.reason,
          message: `revision ${last.fromRevision} was rolled back automatically to this template by commit ${commit}: ${last.detail}`,
        },
      ];
    }
    return [];
  }

  async observe(desired: DesiredDaemonSet, status: StoredStatus, pods: readonly FleetPod[]): Promise<void> {
    if (this.closed) return;
    this.scheduleDeadlineCheck(desired, status);
    const cause = decideAutoRollback({
      daemonSet: desired.daemonSet,
      updateRevision: desired.updateRevision,
      conditions: status.conditions,
      desiredNumberScheduled: status.desiredNumberScheduled,
      pods,
    });
    if (cause === undefined) return;
    const marker = this.markerKey(desired.key, desired.updateRevision);
    const taken = await this.deps.redis.set(marker, 'pending', 'PX', this.deps.pendingTtlMs ?? 600_000, 'NX');
    if (taken !== 'OK') return;
    const run = this.rollBack(desired, cause, marker).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Waits for rollbacks in progress (worker shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  private async rollBack(desired: DesiredDaemonSet, cause: AutoRollbackCause, marker: string): Promise<void> {
    const { deps } = this;
    const ref = { namespace: desired.namespace, name: desired.name };
    try {
      const result = await deps.writer.autoRollback(ref, desired.updateRevision, cause);
      if (result.outcome === 'committed' && result.commit && result.from && result.to) {
        const last: LastRollback = {
          fromHash: result.from.hash,
          fromRevision: result.from.revision,
          toHash: result.to.hash,
          toRevision: result.to.revision,
          reason: cause.reason,
          detail: cause.detail,
          commit: result.commit,
          at: Date.now(),
        };
        await deps.redis.set(marker, `done ${result.commit}`, 'EX', DONE_TTL_SECONDS);
        await deps.redis.set(this.lastKey(desired.key), JSON.stringify(last), 'EX', DONE_TTL_SECONDS);
        await deps.recordEvent(desired.key, {
          type: 'Warning',
          reason: 'AutoRollback',
          message:
            `rolled back from revision ${last.fromRevision} to revision ${last.toRevision} ` +
            `(commit ${result.commit.slice(0, 7)}): ${cause.reason}: ${cause.detail}`,
          from: 'dsctl-auto-rollback',
        });
        deps.logger.warn({ daemonSet: desired.key, commit: result.commit, reason: cause.reason }, 'auto-rollback');
        await deps.requestSync({ reason: 'api', commit: result.commit });
        await deps.requestReconcile(desired.key, 'auto-rollback');
        return;
      }
      await deps.redis.set(marker, `skipped`, 'EX', DONE_TTL_SECONDS);
      if (result.from !== undefined && result.to === undefined) {
        await deps.recordEvent(desired.key, {
          type: 'Warning',
          reason: 'AutoRollbackImpossible',
          message: `${cause.reason}: ${cause.detail}; ${result.message}`,
          from: 'dsctl-auto-rollback',
        });
      }
    } catch (err) {
      const message = (err as Error).message.split('\n', 1)[0] ?? 'failed';
      deps.logger.error({ daemonSet: desired.key, err: message }, 'auto-rollback failed');
      await deps.redis.set(marker, 'failed', 'PX', deps.retryAfterMs ?? 60_000).catch(() => undefined);
      await deps
        .recordEvent(desired.key, {
          type: 'Warning',
          reason: 'AutoRollbackFailed',
          message: `${cause.reason}: ${cause.detail}; the rollback could not be written: ${message}`,
          from: 'dsctl-auto-rollback',
        })
        .catch(() => undefined);
    }
  }

  /**
   * A reconcile when the deadline would pass, so the condition (and a rollback) does not wait for the next poll. An
   * in-process timer per DaemonSet (a delayed BullMQ job would share its deduplication window with other delayed
   * reconciles); a replica that dies loses its timers, and the poll or another replica's timer takes over.
   */
  private scheduleDeadlineCheck(desired: DesiredDaemonSet, status: StoredStatus): void {
    const deadline = progressDeadlineOf(desired.daemonSet);
    const progressing = status.conditions.find((c) => c.type === 'Progressing');
    const remaining = deadline === undefined ? 0 : status.lastProgressAt + deadline * 1000 - status.updatedAt;
    const existing = this.timers.get(desired.key);
    if (deadline === undefined || progressing?.reason !== 'NewRevisionRollingOut' || remaining <= 0) {
      if (existing) clearTimeout(existing.timer);
      this.timers.delete(desired.key);
      return;
    }
    // Also a refresh now and then: nothing else reconciles while a new pod hangs, so progress made by node jobs
    // (and the start of the no-progress period) would otherwise be seen late.
    const delay = Math.min(remaining + 100, Math.min(10_000, Math.max(1000, (deadline * 1000) / 10)));
    const at = Date.now() + delay;
    if (existing && existing.at <= at + 50 && existing.at > Date.now()) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(desired.key);
      if (this.closed) return;
      this.deps
        .requestReconcile(desired.key, 'progress deadline')
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'cannot request the progress deadline check'));
    }, delay);
    timer.unref();
    this.timers.set(desired.key, { at, timer });
  }

  private markerKey(key: string, hash: string): string {
    return `${hashTag(this.deps.prefix)}:autorollback:${key}:${hash}`;
  }

  private lastKey(key: string): string {
    return `${hashTag(this.deps.prefix)}:autorollback:${key}:last`;
  }
}
