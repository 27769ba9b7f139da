/**
 * The rolling update (daemonset-semantics.md §8, Kubernetes `rollingUpdate`), run on the
 * working copy after manage.
 *
 * Assumptions: manage left at most one old and one new pod per node, created pods on empty
 * eligible nodes, and removed failed pods.
 * Invariants (maxSurge = 0): an available old pod is deleted only while the number of
 * unavailable nodes, counting new pods still starting, emptied nodes and old pods that are not
 * available, stays within maxUnavailable. Old pods that are not available are replaced anyway.
 * Invariants (maxSurge > 0): no available old pod is deleted before the new pod on its node is
 * available; at most maxSurge nodes run a not-yet-available new pod next to an available old one.
 */
import type { NodeEligibility } from './eligibility.js';
import { isPodAvailable, type WorkingPod } from './pod-state.js';
import type { PhaseResult } from './working-set.js';
import type { RollingBudget } from './budget.js';

export interface RollingUpdateInput {
  /** Node names in walk order: every node with pods, plus every desired node without pods. */
  nodeNames: readonly string[];
  eligibility: ReadonlyMap<string, NodeEligibility>;
  podsByNode: ReadonlyMap<string, WorkingPod[]>;
  hash: string;
  budget: RollingBudget;
  desired: number;
  minReadySeconds: number;
  now: number;
  /** Nodes whose available old pod stays (dsctl partition / canary); unavailable old pods are still replaced. */
  holdNodes?: ReadonlySet<string>;
}

interface NodePods {
  newPod?: WorkingPod;
  oldPod?: WorkingPod;
  /** false: two new or two old pods; manage prunes them and the node is skipped. */
  regular: boolean;
}

/** Kubernetes `findUpdatedPodsOnNode`, over the node's pods that are not being deleted. */
function findUpdatedPodsOnNode(pods: readonly WorkingPod[], hash: string): NodePods {
  let newPod: WorkingPod | undefined;
  let oldPod: WorkingPod | undefined;
  for (const pod of pods) {
    if (pod.deleting) continue;
    if (pod.revision === hash) {
      if (newPod) return { regular: false };
      newPod = pod;
    } else {
      if (oldPod) return { regular: false };
      oldPod = pod;
    }
  }
  return { newPod, oldPod, regular: true };
}

export function rollingUpdate(input: RollingUpdateInput): PhaseResult {
  return input.budget.maxSurge > 0 ? surgeUpdate(input) : unavailabilityUpdate(input);
}

/** maxSurge = 0: delete old pods within maxUnavailable; manage recreates them next sync. */
function unavailabilityUpdate(input: RollingUpdateInput): PhaseResult {
  const { maxUnavailable } = input.budget;
  const available = (pod: WorkingPod) => isPodAvailable(pod, input.minReadySeconds, input.now);
  let numUnavailable = 0;
  const replacements: WorkingPod[] = [];
  const candidates: WorkingPod[] = [];

  for (const nodeName of input.nodeNames) {
    const { newPod, oldPod, regular } = findUpdatedPodsOnNode(input.podsByNode.get(nodeName) ?? [], input.hash);
    if (!regular) {
      numUnavailable++; // manage will prune the extra pods
      continue;
    }
    if ((!oldPod && !newPod) || (oldPod && newPod)) {
      numUnavailable++; // empty (or only terminating) node, or a node mid-replacement
    } else if (newPod) {
      if (!available(newPod)) numUnavailable++;
    } else if (oldPod) {
      if (!available(oldPod)) {
        replacements.push(oldPod); // an unavailable old pod is replaced regardless of the budget
        numUnavailable++;
      } else if (numUnavailable < maxUnavailable && !input.holdNodes?.has(nodeName)) {
        candidates.push(oldPod);
      }
    }
  }

  const room = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
  return {
    create: [],
    delete: [...replacements, ...candidates.slice(0, room)].map((pod) => ({ pod, reason: 'RollingUpdate' as const })),
  };
}

/** maxSurge > 0: create new pods next to old ones; delete an old pod once its new pod is available. */
function surgeUpdate(input: RollingUpdateInput): PhaseResult {
  const { maxSurge } = input.budget;
  const available = (pod: WorkingPod) => isPodAvailable(pod, input.minReadySeconds, input.now);
  const shouldRun = (node: string) => input.eligibility.get(node)?.shouldRun === true;
  const oldPodsToDelete: WorkingPod[] = [];
  const leavingPods: WorkingPod[] = []; // old available pods on nodes that should no longer run one
  const allowedNewNodes: string[] = [];
  const candidateNewNodes: string[] = [];
  let numSurge = 0;
  let numAvailable = 0;

  for (const nodeName of input.nodeNames) {
    const { newPod, oldPod, regular } = findUpdatedPodsOnNode(input.podsByNode.get(nodeName) ?? [], input.hash);
    if (!regular) {
      numSurge++;
      continue;
    }
    if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) numAvailable++;

    if (!oldPod) continue; // nothing to replace; manage fills empty nodes
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun(nodeName)) oldPodsToDelete.push(oldPod);
        else allowedNewNodes.push(nodeName); // replace an unavailable old pod at once, ignoring maxSurge
      } else if (!shouldRun(nodeName)) {
        leavingPods.push(oldPod);
      } else if (numSurge < maxSurge && !input.holdNodes?.has(nodeName)) {
        candidateNewNodes.push(nodeName);
      }
      continue;
    }
    // Already surged here: wait for the new pod, then retire the old one.
    if (!available(newPod)) numSurge++;
    else oldPodsToDelete.push(oldPod);
  }

  // A pod on a node being vacated goes only once enough pods are available elsewhere.
  const extra = numAvailable - input.desired;
  if (extra > 0) oldPodsToDelete.push(...leavingPods.slice(0, extra));

  const room = Math.min(Math.max(maxSurge - numSurge, 0), candidateNewNodes.length);
  return {
    create: [...allowedNewNodes, ...candidateNewNodes.slice(0, room)],
    delete: oldPodsToDelete.map((pod) => ({ pod, reason: 'RollingUpdate' as const })),
  };
}
