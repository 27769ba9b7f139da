/**
 * Pod states the planner reasons about (daemonset-semantics.md §5): readiness, availability
 * with minReadySeconds, and the "oldest pod first" order of a node.
 */
import type { PodInput, PodPhase } from '../domain/plan.js';

/** A pod with every optional field of the contract resolved, plus its input position for age ties. */
export interface WorkingPod {
  name: string;
  node: string;
  revision: string;
  ready: boolean;
  readySince: number | undefined;
  createdAt: number;
  deleting: boolean;
  phase: PodPhase;
  /** Position in the input; later pods are younger when createdAt ties. */
  order: number;
  /** Created by this planning step (never a deletion target, never emitted by name). */
  planned: boolean;
}

export function toWorkingPod(pod: PodInput, order: number): WorkingPod {
  return {
    name: pod.name,
    node: pod.node,
    revision: pod.revision,
    ready: pod.ready === true,
    readySince: pod.readySince,
    createdAt: pod.createdAt ?? 0,
    deleting: pod.deleting === true,
    phase: pod.phase ?? 'Running',
    order,
    planned: false,
  };
}

export function isTerminal(pod: WorkingPod): boolean {
  return pod.phase === 'Failed' || pod.phase === 'Succeeded';
}

/**
 * Kubernetes `IsPodAvailable`: ready, and ready for at least minReadySeconds. The boundary is
 * inclusive since Kubernetes 1.34; a ready pod without a transition time is never available
 * when minReadySeconds > 0.
 */
export function isPodAvailable(pod: WorkingPod, minReadySeconds: number, now: number): boolean {
  if (!pod.ready) return false;
  if (minReadySeconds <= 0) return true;
  if (pod.readySince === undefined) return false;
  return pod.readySince + minReadySeconds * 1000 <= now;
}

/** Oldest first: creation time, then input position (dsctl rule for Kubernetes' name tie-break). */
export function compareByAge(a: WorkingPod, b: WorkingPod): number {
  return a.createdAt - b.createdAt || a.order - b.order;
}
