/**
 * `planRollout`: one reconcile step of a DaemonSet, the pure equivalent of one sync of the
 * Kubernetes DaemonSet controller in its unit tests (daemonset-semantics.md §6.1, dsctl rule):
 * defaults, manage, then (RollingUpdate only) the rolling update on manage's result, then status.
 *
 * Pure and total: no I/O, no clock but `input.now`, deterministic node order (plain string order
 * of node names). An object the API server would refuse throws {@link InvalidDaemonSetError};
 * any valid input returns a plan.
 */
import type { NodeInput, PlanInput, PlanResult } from '../domain/plan.js';
import { InvalidDaemonSetError } from '../errors.js';
import { applyDaemonSetDefaults } from '../manifest/defaults.js';
import { validateDaemonSet } from '../manifest/validate.js';
import { templateHash } from '../revision/hash.js';
import { allowsSurge, rollingBudget } from './budget.js';
import { eligibilityChecker, type NodeEligibility } from './eligibility.js';
import { manage } from './manage.js';
import { toWorkingPod } from './pod-state.js';
import { rollingUpdate } from './rolling-update.js';
import { computeRequeueAfterMs, computeStatus } from './status.js';
import { BURST_REPLICAS, capPhase, WorkingSet, type PhaseResult } from './working-set.js';

export interface PlanOptions {
  /** Creates and deletes per phase; Kubernetes' burstReplicas. @defaultValue 250 */
  burstReplicas?: number;
  /**
   * dsctl extension (partition, canary): nodes whose available old pod the rolling update leaves
   * alone. Not part of Kubernetes; empty by default.
   */
  holdNodes?: ReadonlySet<string>;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function planRollout(input: PlanInput, options: PlanOptions = {}): PlanResult {
  const ds = applyDaemonSetDefaults(input.daemonSet);
  const errors = validateDaemonSet(ds);
  if (errors.length > 0) {
    throw new InvalidDaemonSetError(`${ds.metadata?.namespace ?? 'default'}/${ds.metadata?.name ?? ''}`, errors);
  }
  if (ds.metadata?.deletionTimestamp) {
    // Kubernetes' syncDaemonSet does nothing for a DaemonSet being deleted.
    return { create: [], delete: [], requeueAfterMs: null, status: observeStatus(input) };
  }
  const spec = ds.spec!;
  const podSpec = spec.template?.spec ?? {};
  const minReadySeconds = spec.minReadySeconds ?? 0;
  const hash = input.updateRevision ?? templateHash(spec.template, ds.status?.collisionCount);
  const burst = options.burstReplicas ?? BURST_REPLICAS;
  const now = input.now;

  // Walk nodes in plain string order (dsctl rule D2); a repeated name counts once.
  const nodes: NodeInput[] = [];
  const eligibility = new Map<string, NodeEligibility>();
  const shouldRun = eligibilityChecker(podSpec);
  for (const node of [...input.nodes].sort((a, b) => byName(a.name, b.name))) {
    if (eligibility.has(node.name)) continue;
    nodes.push(node);
    eligibility.set(node.name, shouldRun(node));
  }
  const listed = new Set(eligibility.keys());

  const work = new WorkingSet(input.pods.map(toWorkingPod));
  const managed = capPhase(
    manage({
      nodes,
      eligibility,
      podsByNode: work.podsByNode(),
      hash,
      surgeAllowed: allowsSurge(ds),
      minReadySeconds,
      now,
    }),
    burst,
  );
  work.apply(managed, hash, now);

  let rolled: PhaseResult = { create: [], delete: [] };
  if (spec.updateStrategy?.type === 'RollingUpdate') {
    const podsByNode = work.podsByNode();
    let desired = 0;
    const nodeNames = new Set<string>();
    for (const node of nodes) {
      if (eligibility.get(node.name)!.shouldRun) {
        desired++;
        nodeNames.add(node.name);
      }
    }
    // Nodes with pods join the walk even when not desired; nodes that left the list do not (dsctl rule D4).
    for (const name of podsByNode.keys()) if (listed.has(name)) nodeNames.add(name);
    rolled = capPhase(
      rollingUpdate({
        nodeNames: [...nodeNames].sort(byName),
        eligibility,
        podsByNode,
        hash,
        budget: rollingBudget(ds, desired),
        desired,
        minReadySeconds,
        now,
        holdNodes: options.holdNodes,
      }),
      burst,
    );
    work.apply(rolled, hash, now);
  }

  return {
    create: [...managed.create, ...rolled.create].map((node) => ({ node, revision: hash })),
    delete: [...managed.delete, ...rolled.delete].map(({ pod, reason }) => ({ pod: pod.name, node: pod.node, reason })),
    requeueAfterMs: computeRequeueAfterMs(work.all(), listed, minReadySeconds, now),
    status: computeStatus(nodes, eligibility, work.podsByNode(), hash, minReadySeconds, now),
  };
}

/**
 * Status of the state as it is, without planning anything (what `get ds` shows between syncs).
 * Same rules as the status of {@link planRollout}; throws like it on an invalid DaemonSet.
 */
export function observeStatus(input: PlanInput): PlanResult['status'] {
  const ds = applyDaemonSetDefaults(input.daemonSet);
  const podSpec = ds.spec?.template?.spec ?? {};
  const hash = input.updateRevision ?? templateHash(ds.spec?.template, ds.status?.collisionCount);
  const nodes = [...input.nodes].sort((a, b) => byName(a.name, b.name));
  const eligibility = new Map<string, NodeEligibility>();
  const shouldRun = eligibilityChecker(podSpec);
  for (const node of nodes) if (!eligibility.has(node.name)) eligibility.set(node.name, shouldRun(node));
  const work = new WorkingSet(input.pods.map(toWorkingPod));
  return computeStatus(
    nodes.filter((n, i) => i === 0 || nodes[i - 1]!.name !== n.name),
    eligibility,
    work.podsByNode(),
    hash,
    ds.spec?.minReadySeconds ?? 0,
    input.now,
  );
}
