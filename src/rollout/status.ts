/**
 * DaemonSet status (daemonset-semantics.md §10, Kubernetes `updateDaemonSetStatus`), computed
 * over the listed nodes and looking only at the oldest pod of each node.
 */
import type { NodeInput, PlanStatus } from '../domain/plan.js';
import type { NodeEligibility } from './eligibility.js';
import { isPodAvailable, type WorkingPod } from './pod-state.js';

export function computeStatus(
  nodes: readonly NodeInput[],
  eligibility: ReadonlyMap<string, NodeEligibility>,
  podsByNode: ReadonlyMap<string, WorkingPod[]>,
  hash: string,
  minReadySeconds: number,
  now: number,
): PlanStatus {
  let desired = 0;
  let current = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  let misscheduled = 0;
  for (const node of nodes) {
    const pods = podsByNode.get(node.name) ?? [];
    if (!eligibility.get(node.name)?.shouldRun) {
      if (pods.length > 0) misscheduled++;
      continue;
    }
    desired++;
    const oldest = pods[0];
    if (!oldest) continue;
    current++;
    if (oldest.ready) {
      ready++;
      if (isPodAvailable(oldest, minReadySeconds, now)) available++;
    }
    if (oldest.revision === hash) updated++;
  }
  return {
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    updatedNumberScheduled: updated,
    numberReady: ready,
    numberAvailable: available,
    numberUnavailable: desired - available,
    numberMisscheduled: misscheduled,
  };
}

/**
 * dsctl rule (§11): milliseconds until the first ready-but-not-yet-available pod on a listed
 * node becomes available; null when none waits (always null with minReadySeconds = 0).
 */
export function computeRequeueAfterMs(
  pods: readonly WorkingPod[],
  listedNodes: ReadonlySet<string>,
  minReadySeconds: number,
  now: number,
): number | null {
  if (minReadySeconds <= 0) return null;
  let soonest: number | null = null;
  for (const pod of pods) {
    if (pod.deleting || !pod.ready || pod.readySince === undefined || !listedNodes.has(pod.node)) continue;
    if (isPodAvailable(pod, minReadySeconds, now)) continue;
    const wait = pod.readySince + minReadySeconds * 1000 - now;
    if (soonest === null || wait < soonest) soonest = wait;
  }
  return soonest;
}
