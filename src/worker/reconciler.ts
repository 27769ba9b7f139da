/**
 * One reconcile of one DaemonSet: read desired state (Git, via Redis) and the fleet, lay the
 * in-flight node updates over the fleet (Kubernetes' expectations), plan with the pure planner,
 * record the decided updates under the planning lock, enqueue one node job per node, and write
 * status, conditions and events.
 *
 * Invariants:
 * - planning of one DaemonSet never runs twice at once (BullMQ deduplication plus a fenced lock);
 * - a node with an in-flight update counts as unavailable until its job removes the entry, which
 *   it does only once the new pod is available, so the budget holds across replicas and crashes;
 * - every decided update is recorded before its job exists, and a recorded update whose job is
 *   missing (a crash between the two) is enqueued again.
 */
import type { Logger } from 'pino';
import type { PodInput } from '../domain/plan.js';
import type { Condition } from '../domain/views.js';
import type { FleetDriver, FleetPod } from '../fleet/driver.js';
import type { NodeJobData } from '../queue/jobs.js';
import { QUEUE_NODE_UPDATE, nodeJobId } from '../queue/names.js';
import { InvalidDaemonSetError } from '../errors.js';
import { eligibilityChecker } from '../rollout/eligibility.js';
import { observeStatus, planRollout } from '../rollout/plan.js';
import { rollingBudget } from '../rollout/budget.js';
import { isPausedByAnnotation, partitionOf, progressDeadlineOf } from './annotations.js';
import type { DesiredDaemonSet, DesiredStateReader } from './desired-state.js';
import type { InflightEntry, RolloutState, StoredStatus } from './rollout-state.js';

export interface NodeJobRequest {
  id: string;
  data: NodeJobData;
}

export interface RolloutMetricsSink {
  setRolloutProgress(
    daemonSet: string,
    p: {
      nodesTotal: number;
      nodesUpdated: number;
      nodesAvailable: number;
      budgetInUse: number;
      budgetLimit: number;
      etaSeconds: number | null;
      deadlineExceeded?: boolean;
    },
  ): void;
  removeDaemonSet(daemonSet: string): void;
}

/** Extension points around the status a reconcile writes (auto-rollback, issue 6). */
export interface RolloutHook {
  /** Extra conditions of a DaemonSet (e.g. `AutoRolledBack`), added to the computed ones. */
  conditions?(desired: DesiredDaemonSet): Promise<Omit<Condition, 'lastTransitionTime'>[]>;
  /** Sees every status written, with the fleet's pods. Errors are logged; they never fail the reconcile. */
  observe?(desired: DesiredDaemonSet, status: StoredStatus, pods: readonly FleetPod[]): Promise<void>;
}

export interface ReconcilerDeps {
  state: RolloutState;
  desired: DesiredStateReader;
  fleet: FleetDriver;
  /** Adds the jobs to the node-update queue (in slices, so the first ones start early). */
  enqueueNodeJobs(jobs: NodeJobRequest[]): Promise<void>;
  logger: Logger;
  metrics?: RolloutMetricsSink;
  /** Creates and deletes per planning step. @defaultValue 10000 */
  burstReplicas?: number;
  /**
   * Planning lock TTL; renewed while a reconcile runs, so a replica killed mid-plan blocks the
   * DaemonSet for at most this long. @defaultValue 10000
   */
  planLockTtlMs?: number;
  /** In-flight entries older than this get their job re-added if it is missing. @defaultValue 10000 */
  orphanAfterMs?: number;
  hook?: RolloutHook;
}

export type ReconcileOutcome =
  | { kind: 'locked' }
  | { kind: 'unknown' }
  | { kind: 'deleted'; remainingPods: number }
  | { kind: 'invalid'; message: string }
  | { kind: 'planned'; jobs: number; deletes: number; requeueAfterMs: number | null; complete: boolean };

const SYNTHETIC = '(in-flight)';
const POD_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `<ds-name>-` plus 5 characters of Kubernetes' safe alphabet. */
export function generatePodName(dsName: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += POD_NAME_ALPHABET[Math.floor(Math.random() * POD_NAME_ALPHABET.length)];
  return `${dsName}-${suffix}`;
}

export class Reconciler {
  private readonly burst: number;
  private readonly lockTtl: number;
  private readonly orphanAfterMs: number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.burst = deps.burstReplicas ?? 10000;
    this.lockTtl = deps.planLockTtlMs ?? 10000;
    this.orphanAfterMs = deps.orphanAfterMs ?? 10000;
  }

  async reconcile(ds: string): Promise<ReconcileOutcome> {
    const result = await this.deps.state.withLock(this.deps.state.keys.planLock(ds), this.lockTtl, async (token) => {
      const desired = await this.deps.desired.get(ds);
      if (!desired) return { kind: 'unknown' } as const;
      if (desired.deleted) return await this.removeDaemonSet(desired);
      return await this.plan(desired, token);
    });
    return result === 'busy' ? { kind: 'locked' } : result;
  }

  private async plan(desired: DesiredDaemonSet, token: string): Promise<ReconcileOutcome> {
    const { state, fleet, logger } = this.deps;
    const ds = desired.key;
    const spec = desired.daemonSet.spec ?? {};
    const H = desired.updateRevision;
    const [snapshot, inflight, pausedByApi, previous] = await Promise.all([
      fleet.snapshot(ds),
      state.inflight(ds),
      state.isPaused(ds),
      state.status(ds),
    ]);
    const now = snapshot.now;
    const paused = pausedByApi || isPausedByAnnotation(desired.daemonSet);
    const podSpec = spec.template?.spec ?? {};
    const shouldRun = eligibilityChecker(podSpec);
    const eligible = new Set(snapshot.nodes.filter((n) => shouldRun(n).shouldRun).map((n) => n.name));
    const listed = new Set(snapshot.nodes.map((n) => n.name));

    // Entries of nodes that left the fleet are dropped: the node no longer counts anywhere.
    const goneEntries = [...inflight.keys()].filter((node) => !listed.has(node));
    if (goneEntries.length > 0) {
      await state.clearInflight(ds, goneEntries);
      for (const node of goneEntries) inflight.delete(node);
    }

    const pods = overlayInflight(snapshot.pods, inflight, H, now);
    const partition = partitionOf(desired.daemonSet);
    const holdNodes = partition > 0 ? new Set([...eligible].sort().slice(-partition)) : undefined;

    let plan;
    try {
      plan = planRollout(
        { daemonSet: desired.daemonSet, updateRevision: H, nodes: snapshot.nodes, pods, now },
        { burstReplicas: this.burst, holdNodes },
      );
    } catch (err) {
      if (!(err instanceof InvalidDaemonSetError)) throw err;
      logger.warn({ daemonSet: ds, err: err.message }, 'desired DaemonSet is invalid; nothing planned');
      return { kind: 'invalid', message: err.message };
    }

    const desiredCount = eligible.size;
    const budget = rollingBudget(desired.daemonSet, desiredCount);
    const surge = spec.updateStrategy?.type === 'RollingUpdate' && budget.maxSurge > 0;
    const images = (podSpec.containers ?? []).map((c) => c.image ?? '');
    const minReadySeconds = spec.minReadySeconds ?? 0;

    const jobs = new Map<string, NodeJobData>();
    const directDeletes: { pod: string; node: string; reason: string }[] = [];
    const clearEntries: string[] = [];
    const newJob = (node: string, mode: 'replace' | 'create'): NodeJobData => ({
      daemonSet: ds,
      revision: H,
      node,
      mode,
      createPod: true,
      images,
      minReadySeconds,
      plannedAt: now,
    });

    for (const d of plan.delete) {
      const synthetic = d.pod.startsWith(SYNTHETIC);
      if (!surge && eligible.has(d.node) && (synthetic || d.reason === 'RollingUpdate')) {
        jobs.set(d.node, newJob(d.node, 'replace'));
      } else if (synthetic) {
        // A stale update on a node that should not get a new pod: remove what it left behind.
        clearEntries.push(d.node);
        for (const pod of snapshot.pods)
          if (pod.node === d.node && !pod.deleting)
            directDeletes.push({ pod: pod.name, node: d.node, reason: 'NotEligible' });
      } else {
        directDeletes.push(d);
      }
    }
    for (const c of plan.create) if (!jobs.has(c.node)) jobs.set(c.node, newJob(c.node, 'create'));

    // Recorded updates of this revision whose job vanished (crash between record and enqueue) go again.
    const orphanCandidates = [...inflight.entries()].filter(
      ([node, e]) => e.revision === H && !jobs.has(node) && now - e.since > this.orphanAfterMs,
    );
    const existing = await state.existingJobs(
      QUEUE_NODE_UPDATE,
      orphanCandidates.map(([, e]) => e.jobId),
    );
    const requeue: NodeJobRequest[] = orphanCandidates
      .filter(([, e]) => !existing.has(e.jobId))
      .map(([node, e]) => ({ id: e.jobId, data: { ...newJob(node, e.mode), plannedAt: e.since } }));

    let enqueued = 0;
    if (!paused) {
      const requests: NodeJobRequest[] = [...jobs].map(([node, data]) => ({ id: nodeJobId(ds, H, node), data }));
      // Every entry is recorded before any job exists, so the in-flight count never drops to zero
      // while the plan is still going out (a finishing job would take that for the rollout's end).
      const entries = new Map<string, InflightEntry>(
        requests.map(({ id, data }) => [data.node, { jobId: id, revision: H, mode: data.mode, since: now }]),
      );
      if (!(await state.commitPlan(ds, token, entries))) {
        logger.warn({ daemonSet: ds }, 'planning lock lost before the plan was recorded; nothing enqueued');
        return { kind: 'locked' };
      }
      await this.deps.enqueueNodeJobs(requests);
      enqueued += requests.length;
      await this.deps.enqueueNodeJobs(requeue);
      enqueued += requeue.length;
      if (clearEntries.length > 0) await state.clearInflight(ds, clearEntries);
      for (const d of directDeletes) await this.deletePod(ds, d.pod, d.reason, snapshot.pods);
    }

    // Nodes that still need this revision but got no update yet (budget, pause): while there are
    // none, finishing node jobs need not re-plan at once (see NodeJobDeps.requestReconcile).
    const busy = new Set([...inflight.keys(), ...jobs.keys()]);
    const hasNew = new Set(snapshot.pods.filter((p) => p.revision === H && !p.deleting).map((p) => p.node));
    let waiting = 0;
    for (const node of eligible) if (!hasNew.has(node) && !busy.has(node)) waiting++;
    await state.setWaiting(ds, waiting + (plan.delete.length > 0 && jobs.size === 0 ? 1 : 0));

    const status = await this.writeStatus(desired, {
      snapshotPods: snapshot.pods,
      nodes: snapshot.nodes,
      now,
      paused,
      previous,
      inflight: new Set([...inflight.keys(), ...jobs.keys()]),
      budgetLimit: surge ? budget.maxSurge : budget.maxUnavailable,
      partition,
    });
    logger.debug({ daemonSet: ds, revision: H, jobs: enqueued, deletes: directDeletes.length, paused }, 'reconciled');
    const complete =
      status.updatedNumberScheduled >= status.desiredNumberScheduled - partition &&
      status.numberAvailable === status.desiredNumberScheduled;
    return {
      kind: 'planned',
      jobs: enqueued,
      deletes: paused ? 0 : directDeletes.length,
      requeueAfterMs: plan.requeueAfterMs,
      complete,
    };
  }

  private async deletePod(ds: string, podName: string, reason: string, pods: readonly FleetPod[]): Promise<void> {
    const pod = pods.find((p) => p.name === podName);
    const [namespace] = ds.split('/');
    if (reason === 'Failed' && pod) {
      await this.deps.state.recordEvent(ds, {
        type: 'Warning',
        reason: 'FailedDaemonPod',
        message: `Found failed daemon pod ${namespace}/${podName} on node ${pod.node}, will try to kill it`,
        from: 'daemonset-controller',
      });
    } else if (reason === 'Succeeded' && pod) {
      await this.deps.state.recordEvent(ds, {
        type: 'Normal',
        reason: 'SucceededDaemonPod',
        message: `Found succeeded daemon pod ${namespace}/${podName} on node ${pod.node}, will try to delete it`,
        from: 'daemonset-controller',
      });
    }
    if (await this.deps.fleet.deletePod(ds, podName)) {
      await this.deps.state.recordEvent(ds, {
        type: 'Normal',
        reason: 'SuccessfulDelete',
        message: `Deleted pod: ${podName}`,
        from: 'daemonset-controller',
      });
    }
  }

  /** A DaemonSet removed from Git (pruning on): delete its pods, then forget it. */
  private async removeDaemonSet(desired: DesiredDaemonSet): Promise<ReconcileOutcome> {
    const ds = desired.key;
    const pods = await this.deps.fleet.listPods(ds);
    for (const pod of pods) if (!pod.deleting) await this.deletePod(ds, pod.name, 'NodeGone', pods);
    const remaining = (await this.deps.fleet.listPods(ds)).filter((p) => !p.deleting).length;
    if (remaining === 0) {
      await this.deps.state.forget(ds);
      await this.deps.desired.forget(ds);
      this.deps.metrics?.removeDaemonSet(ds);
    }
    return { kind: 'deleted', remainingPods: remaining };
  }

  private async writeStatus(
    desired: DesiredDaemonSet,
    observed: {
      snapshotPods: FleetPod[];
      nodes: import('../domain/plan.js').NodeInput[];
      now: number;
      paused: boolean;
      previous: StoredStatus | undefined;
      inflight: Set<string>;
      budgetLimit: number;
      partition: number;
    },
  ): Promise<StoredStatus> {
    const ds = desired.key;
    const { now, previous } = observed;
    const counts = observeStatus({
      daemonSet: desired.daemonSet,
      updateRevision: desired.updateRevision,
      nodes: observed.nodes,
      pods: observed.snapshotPods,
      now,
    });
    const complete =
      counts.updatedNumberScheduled >= counts.desiredNumberScheduled - observed.partition &&
      counts.numberAvailable === counts.desiredNumberScheduled;
    const progressed =
      !previous ||
      previous.updateRevision !== desired.updateRevision ||
      previous.updatedNumberScheduled !== counts.updatedNumberScheduled ||
      previous.numberAvailable !== counts.numberAvailable;
    const lastProgressAt = progressed ? now : previous.lastProgressAt;
    const durations = await this.deps.state.nodeDurations(ds);
    const etaSeconds = estimateEtaSeconds(durations, counts, observed.budgetLimit, complete);

    const conditions = buildConditions({
      previous: previous?.conditions ?? [],
      now,
      complete,
      paused: observed.paused,
      counts,
      lastProgressAt,
      deadlineSeconds: progressDeadlineOf(desired.daemonSet),
      inflightNodes: [...observed.inflight].sort(),
      unavailableNodes: unavailableNodeNames(observed.nodes, observed.snapshotPods, desired, now),
      desired,
      source: await this.deps.desired.sourceCondition(),
      extra: await this.hookConditions(desired),
    });

    const currentRevision = complete
      ? desired.updateRevision
      : (previous?.currentRevision ?? mostCommonRevision(observed.snapshotPods) ?? desired.updateRevision);
    const status: StoredStatus = {
      ...counts,
      observedGeneration: desired.generation,
      currentRevision,
      updateRevision: desired.updateRevision,
      updateRevisionNumber: desired.updateRevisionNumber,
      paused: observed.paused,
      conditions,
      lastProgressAt,
      recentNodeMs: durations,
      updatedAt: now,
    };
    await this.deps.state.writeStatus(ds, status);
    this.deps.metrics?.setRolloutProgress(ds, {
      nodesTotal: counts.desiredNumberScheduled,
      nodesUpdated: counts.updatedNumberScheduled,
      nodesAvailable: counts.numberAvailable,
      budgetInUse: observed.inflight.size,
      budgetLimit: observed.budgetLimit,
      etaSeconds,
      deadlineExceeded: conditions.some((c) => c.reason === 'ProgressDeadlineExceeded'),
    });
    try {
      await this.deps.hook?.observe?.(desired, status, observed.snapshotPods);
    } catch (err) {
      this.deps.logger.warn({ daemonSet: ds, err: (err as Error).message }, 'rollout hook failed');
    }
    return status;
  }

  private async hookConditions(desired: DesiredDaemonSet): Promise<Omit<Condition, 'lastTransitionTime'>[]> {
    try {
      return (await this.deps.hook?.conditions?.(desired)) ?? [];
    } catch (err) {
      this.deps.logger.warn({ daemonSet: desired.key, err: (err as Error).message }, 'rollout hook failed');
      return [];
    }
  }
}

/**
 * The planner's view of the pods: a node with an in-flight update of the current revision shows
 * its new pod (a not-ready placeholder until the job has created it), without the old pods a
 * `replace` job is deleting; a node with an in-flight update of an older revision shows only a
 * not-ready pod of that revision, so the planner replaces it at once.
 */
export function overlayInflight(
  fleetPods: readonly FleetPod[],
  inflight: ReadonlyMap<string, InflightEntry>,
  revision: string,
  now: number,
): PodInput[] {
  if (inflight.size === 0) return [...fleetPods];
  const out: PodInput[] = [];
  const hasNew = new Set<string>();
  for (const pod of fleetPods) {
    const entry = inflight.get(pod.node);
    if (!entry) {
      out.push(pod);
      continue;
    }
    if (entry.revision !== revision) continue; // replaced by the placeholder below
    if (pod.revision === revision) {
      if (!pod.deleting && pod.phase !== 'Failed') hasNew.add(pod.node);
      out.push(pod);
    } else if (entry.mode === 'create') {
      out.push(pod); // surge: the old pod stays until the new one is available
    }
  }
  for (const [node, entry] of inflight) {
    if (entry.revision === revision && hasNew.has(node)) continue;
    out.push({
      name: `${SYNTHETIC}/${node}`,
      node,
      revision: entry.revision,
      ready: false,
      createdAt: entry.since <= now ? entry.since : now,
      phase: 'Running',
    });
  }
  return out;
}

function mostCommonRevision(pods: readonly FleetPod[]): string | undefined {
  const counts = new Map<string, number>();
  for (const p of pods) counts.set(p.revision, (counts.get(p.revision) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [rev, n] of counts) if (n > bestCount) [best, bestCount] = [rev, n];
  return best;
}

function unavailableNodeNames(
  nodes: import('../domain/plan.js').NodeInput[],
  pods: readonly FleetPod[],
  desired: DesiredDaemonSet,
  now: number,
): string[] {
  const minReady = desired.daemonSet.spec?.minReadySeconds ?? 0;
  const availableOn = new Set(
    pods
      .filter((p) => p.ready && !p.deleting && (minReady === 0 || (p.readySince ?? Infinity) + minReady * 1000 <= now))
      .map((p) => p.node),
  );
  const shouldRun = eligibilityChecker(desired.daemonSet.spec?.template?.spec ?? {});
  return nodes
    .filter((n) => shouldRun(n).shouldRun && !availableOn.has(n.name))
    .map((n) => n.name)
    .sort();
}

/** Seconds to finish: mean observed node time × remaining waves of `budget` nodes. */
export function estimateEtaSeconds(
  durationsMs: number[],
  counts: { desiredNumberScheduled: number; updatedNumberScheduled: number },
  budget: number,
  complete: boolean,
): number | null {
  if (complete) return 0;
  if (durationsMs.length === 0) return null;
  const mean = durationsMs.reduce((a, b) => a + b, 0) / durationsMs.length;
  const remaining = Math.max(0, counts.desiredNumberScheduled - counts.updatedNumberScheduled);
  return Math.round((mean * Math.ceil(remaining / Math.max(1, budget))) / 1000);
}

interface ConditionInput {
  previous: Condition[];
  now: number;
  complete: boolean;
  paused: boolean;
  counts: { desiredNumberScheduled: number; updatedNumberScheduled: number; numberAvailable: number };
  lastProgressAt: number;
  deadlineSeconds: number | undefined;
  inflightNodes: string[];
  unavailableNodes: string[];
  desired: DesiredDaemonSet;
  source: { reason: string; message: string; since: number } | undefined;
  /** Conditions from a {@link RolloutHook}. */
  extra?: Omit<Condition, 'lastTransitionTime'>[];
}

function listNodes(nodes: string[], max = 10): string {
  return nodes.length <= max ? nodes.join(', ') : `${nodes.slice(0, max).join(', ')} and ${nodes.length - max} more`;
}

/** Conditions as data; lastTransitionTime moves only when a condition's status changes. */
export function buildConditions(input: ConditionInput): Condition[] {
  const { counts, now } = input;
  const out: Omit<Condition, 'lastTransitionTime'>[] = [];
  const progressLine = `${counts.updatedNumberScheduled} of ${counts.desiredNumberScheduled} nodes updated, ${counts.numberAvailable} available`;
  const stuckFor = now - input.lastProgressAt;

  if (input.complete) {
    out.push({ type: 'Progressing', status: 'True', reason: 'RolloutComplete', message: progressLine });
  } else if (input.paused) {
    out.push({ type: 'Progressing', status: 'Unknown', reason: 'Paused', message: `rollout paused; ${progressLine}` });
  } else if (input.deadlineSeconds !== undefined && stuckFor > input.deadlineSeconds * 1000) {
    const stuck = input.inflightNodes.length > 0 ? input.inflightNodes : input.unavailableNodes;
    out.push({
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `no progress for ${Math.round(stuckFor / 1000)}s (deadline ${input.deadlineSeconds}s); stuck nodes: ${listNodes(stuck)}`,
    });
  } else {
    out.push({ type: 'Progressing', status: 'True', reason: 'NewRevisionRollingOut', message: progressLine });
  }

  out.push(
    counts.numberAvailable === counts.desiredNumberScheduled
      ? {
          type: 'Available',
          status: 'True',
          reason: 'AllNodesAvailable',
          message: `${counts.numberAvailable} nodes available`,
        }
      : {
          type: 'Available',
          status: 'False',
          reason: 'NodesUnavailable',
          message: `unavailable: ${listNodes(input.unavailableNodes)}`,
        },
  );

  const external = input.unavailableNodes.filter((n) => !input.inflightNodes.includes(n));
  if (!input.complete && !input.paused && input.inflightNodes.length === 0 && external.length > 0) {
    // Nothing of ours is in flight, yet nodes are unavailable: they hold the budget; say which.
    out.push({
      type: 'Stalled',
      status: 'True',
      reason: 'BudgetExhausted',
      message: `nodes unavailable for other reasons use up the budget: ${listNodes(external)}`,
    });
  } else if (!input.complete && !input.paused && stuckFor > 30_000) {
    if (input.inflightNodes.length > 0) {
      out.push({
        type: 'Stalled',
        status: 'True',
        reason: 'NewPodsNotAvailable',
        message: `new pods not available after ${Math.round(stuckFor / 1000)}s on ${listNodes(input.inflightNodes)}; budget in use`,
      });
    }
  }

  const problem = input.desired.errors.at(-1);
  if (problem) {
    out.push({
      type: 'ManifestInvalid',
      status: 'True',
      reason: 'ManifestInvalid',
      message: `commit ${problem.commit.slice(0, 7)} ${problem.file}:${problem.line}:${problem.column}: ${problem.message}; keeping the last good revision`,
    });
  }
  if (input.source) {
    out.push({ type: 'SourceFetchFailed', status: 'True', reason: input.source.reason, message: input.source.message });
  }
  out.push(...(input.extra ?? []));

  return out.map((c) => {
    const before = input.previous.find((p) => p.type === c.type);
    const lastTransitionTime =
      before && before.status === c.status ? before.lastTransitionTime : new Date(now).toISOString();
    return { ...c, lastTransitionTime };
  });
}
