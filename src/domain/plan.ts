/**
 * The `planRollout` contract of spec/product.md: one reconcile step, JSON in, JSON out.
 */
import type { DaemonSet, Taint } from './kubernetes.js';

export interface NodeInput {
  name: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  /** `false` means the node carries the `node.kubernetes.io/not-ready` NoSchedule and NoExecute taints. */
  ready?: boolean;
  /** `true` means the node carries `node.kubernetes.io/unschedulable:NoSchedule` (cordoned). */
  unschedulable?: boolean;
}

export type PodPhase = 'Running' | 'Pending' | 'Failed' | 'Succeeded';

export interface PodInput {
  name: string;
  node: string;
  /** Revision hash (Kubernetes' `controller-revision-hash` label). */
  revision: string;
  ready?: boolean;
  /** Epoch ms of the Ready condition's last transition. */
  readySince?: number;
  /** Epoch ms of creation; orders pods on one node (oldest first). */
  createdAt?: number;
  /** The pod has a deletion timestamp. */
  deleting?: boolean;
  phase?: PodPhase;
}

export interface PlanInput {
  /** apps/v1 DaemonSet object, defaults not yet applied. */
  daemonSet: DaemonSet;
  /** Hash of the update revision; computed from the template when absent. */
  updateRevision?: string;
  nodes: NodeInput[];
  pods: PodInput[];
  /** Epoch ms; the one clock reading used for the whole step. */
  now: number;
}

export interface PlanStatus {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  updatedNumberScheduled: number;
  numberReady: number;
  numberAvailable: number;
  numberUnavailable: number;
  numberMisscheduled: number;
}

/** Why a pod is deleted; feeds the Kubernetes-style events of the worker. */
export type DeleteReason =
  | 'Failed' // FailedDaemonPod
  | 'Succeeded' // SucceededDaemonPod
  | 'Duplicate' // more than one pod on a node
  | 'NotEligible' // shouldContinueRunning is false
  | 'NodeGone' // the node left the node list
  | 'RollingUpdate' // an old pod replaced by the rolling update
  | 'SurgeReplaced'; // an old pod whose new pod is available (surge)

export interface PlanCreate {
  node: string;
  revision: string;
}

export interface PlanDelete {
  pod: string;
  node: string;
  reason: DeleteReason;
}

export interface PlanResult {
  create: PlanCreate[];
  delete: PlanDelete[];
  /** Milliseconds until a ready pod becomes available (minReadySeconds); null when nothing waits. */
  requeueAfterMs: number | null;
  status: PlanStatus;
}
