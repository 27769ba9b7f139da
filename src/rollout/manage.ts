/**
 * The manage step (daemonset-semantics.md §7, Kubernetes `podsShouldBeOnNode`): place a pod on
 * every eligible node that has none, and remove failed, succeeded, duplicate and misplaced pods.
 * It never consults maxUnavailable; the rolling update does that afterwards.
 */
import type { NodeInput } from '../domain/plan.js';
import type { NodeEligibility } from './eligibility.js';
import { isPodAvailable, type WorkingPod } from './pod-state.js';
import type { PhaseResult } from './working-set.js';

export interface ManageInput {
  /** Listed nodes in walk order (plain string order of names). */
  nodes: readonly NodeInput[];
  eligibility: ReadonlyMap<string, NodeEligibility>;
  podsByNode: ReadonlyMap<string, WorkingPod[]>;
  hash: string;
  surgeAllowed: boolean;
  minReadySeconds: number;
  now: number;
}

export function manage(input: ManageInput): PhaseResult {
  const result: PhaseResult = { create: [], delete: [] };
  const listed = new Set(input.nodes.map((n) => n.name));

  for (const node of input.nodes) {
    const { shouldRun, shouldContinueRunning } = input.eligibility.get(node.name)!;
    const pods = input.podsByNode.get(node.name) ?? [];

    if (shouldRun && pods.length === 0) {
      result.create.push(node.name);
      continue;
    }
    if (!shouldContinueRunning) {
      // Selector, affinity or an untolerated NoExecute taint: the pods must go.
      for (const pod of pods) if (!pod.deleting) result.delete.push({ pod, reason: 'NotEligible' });
      continue;
    }

    const running: WorkingPod[] = [];
    for (const pod of pods) {
      if (pod.deleting) continue;
      if (pod.phase === 'Failed') result.delete.push({ pod, reason: 'Failed' });
      else if (pod.phase === 'Succeeded') result.delete.push({ pod, reason: 'Succeeded' });
      else running.push(pod);
    }

    if (!input.surgeAllowed) {
      // Keep the oldest; a node whose pods all failed is refilled by the next sync, never this one.
      for (const pod of running.slice(1)) result.delete.push({ pod, reason: 'Duplicate' });
      continue;
    }

    if (running.length === 0) {
      // With surge, a node whose only pod failed or is terminating gets its replacement at once.
      if (shouldRun) result.create.push(node.name);
      continue;
    }
    if (running.length === 1) continue;

    let oldestNew: WorkingPod | undefined;
    let oldestOld: WorkingPod | undefined;
    for (const pod of running) {
      if (pod.revision === input.hash) {
        if (!oldestNew) {
          oldestNew = pod;
          continue;
        }
      } else if (!oldestOld) {
        oldestOld = pod;
        continue;
      }
      result.delete.push({ pod, reason: 'Duplicate' });
    }
    if (oldestNew && oldestOld) {
      // The old pod goes once the new one is available, or at once if it is not even ready.
      if (!oldestOld.ready || isPodAvailable(oldestNew, input.minReadySeconds, input.now)) {
        result.delete.push({ pod: oldestOld, reason: 'SurgeReplaced' });
      }
    }
  }

  // dsctl rule D4: pods on nodes that left the list are deleted here (Kubernetes' pod GC does it).
  const gone = [...input.podsByNode.keys()].filter((name) => !listed.has(name)).sort();
  for (const nodeName of gone) {
    for (const pod of input.podsByNode.get(nodeName)!)
      if (!pod.deleting) result.delete.push({ pod, reason: 'NodeGone' });
  }
  return result;
}
