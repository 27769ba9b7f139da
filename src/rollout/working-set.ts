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
  /** Built on first use, then kept up to date by {@link apply} (a 10,000-node plan asks three times). */
  private byNode: Map<string, WorkingPod[]> | undefined;

  constructor(pods: WorkingPod[]) {
    this.pods = pods;
    this.nextOrder = pods.length;
  }

  /**
   * Pods grouped by node, oldest first, as Kubernetes' `getNodesToDaemonPods(includeDeletedTerminal=false)`:
   * pods that are both terminal and being deleted are left out entirely. Read-only for callers.
   */
  podsByNode(): Map<string, WorkingPod[]> {
    if (this.byNode) return this.byNode;
    const byNode = new Map<string, WorkingPod[]>();
    for (const pod of this.pods) {
      if (pod.deleting && isTerminal(pod)) continue;
      const list = byNode.get(pod.node);
      if (list) list.push(pod);
      else byNode.set(pod.node, [pod]);
    }
    for (const list of byNode.values()) if (list.length > 1) list.sort(compareByAge);
    this.byNode = byNode;
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
      for (const pod of gone) this.removeFromNode(pod);
    }
    for (const node of result.create) {
      const pod: WorkingPod = {
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
      };
      this.pods.push(pod);
      this.addToNode(pod);
    }
  }

  private removeFromNode(pod: WorkingPod): void {
    const list = this.byNode?.get(pod.node);
    const at = list?.indexOf(pod) ?? -1;
    if (!list || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.byNode!.delete(pod.node);
  }

  private addToNode(pod: WorkingPod): void {
    if (!this.byNode) return;
    const list = this.byNode.get(pod.node);
    if (!list) {
      this.byNode.set(pod.node, [pod]);
      return;
    }
    list.push(pod);
    // Youngest by order; only a pod created "in the future" of `now` (clock skew) sorts after it.
    if (compareByAge(list[list.length - 2]!, pod) > 0) list.sort(compareByAge);
  }
}

/** Kubernetes' `burstReplicas`: at most this many creates and deletes per phase of one sync. */
export const BURST_REPLICAS = 250;

export function capPhase(result: PhaseResult, burst: number): PhaseResult {
  return { create: result.create.slice(0, burst), delete: result.delete.slice(0, burst) };
}
