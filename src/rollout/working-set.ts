/**
 * The planner's working copy of a DaemonSet's pods: what one phase decided is applied before the
 * next phase looks (daemonset-semantics.md §6.1, dsctl rule), as Kubernetes' fake pod control does.
 */
import type { DeleteReason } from '../domain/plan.js';
import { compareByAge, isTerminal, type WorkingPod } from './pod-state.js';

export interface PhaseResult {
  create: string[]; // node names
  delete: { pod: WorkingPod; reason: DeleteReason }[];
}

export class WorkingSet {
  private pods: WorkingPod[];
  private nextOrder: number;

  constructor(pods: WorkingPod[]) {
    this.pods = pods;
    this.nextOrder = pods.length;
  }

  /**
   * Pods grouped by node, oldest first, as Kubernetes' `getNodesToDaemonPods(includeDeletedTerminal=false)`:
   * pods that are both terminal and being deleted are left out entirely.
   */
  podsByNode(): Map<string, WorkingPod[]> {
    const byNode = new Map<string, WorkingPod[]>();
    for (const pod of this.pods) {
      if (pod.deleting && isTerminal(pod)) continue;
      const list = byNode.get(pod.node);
      if (list) list.push(pod);
      else byNode.set(pod.node, [pod]);
    }
    for (const list of byNode.values()) list.sort(compareByAge);
    return byNode;
  }

  all(): readonly WorkingPod[] {
    return this.pods;
  }

  /** Removes deleted pods and appends created ones as not-ready pods of `revision` born at `now`. */
  apply(result: PhaseResult, revision: string, now: number): void {
    if (result.delete.length > 0) {
      const gone = new Set(result.delete.map((d) => d.pod));
      this.pods = this.pods.filter((pod) => !gone.has(pod));
    }
    for (const node of result.create) {
      this.pods.push({
        name: `(planned)/${node}/${this.nextOrder}`,
        node,
        revision,
        ready: false,
        readySince: undefined,
        createdAt: now,
        deleting: false,
        phase: 'Running',
        order: this.nextOrder++,
        planned: true,
      });
    }
  }
}

/** Kubernetes' `burstReplicas`: at most this many creates and deletes per phase of one sync. */
export const BURST_REPLICAS = 250;

export function capPhase(result: PhaseResult, burst: number): PhaseResult {
  return { create: result.create.slice(0, burst), delete: result.delete.slice(0, burst) };
}
