/**
 * The fleet seam: what actually runs on each node, behind one interface.
 *
 * The worker reads a {@link FleetSnapshot} and hands it to the planner (`planRollout`), then acts on the plan through
 * {@link FleetDriver.createPod} and {@link FleetDriver.deletePod}. Drivers: `sim` (simulated nodes kept in Redis, see
 * `simulated/`), later `agent` and `kubernetes`. Every driver returns the planner's own input shapes (`NodeInput`,
 * `PodInput`), so a snapshot can be passed to the planner as it is.
 */
import type { NodeInput, PodInput, PodPhase } from '../domain/plan.js';

/** A DaemonSet pod as the fleet reports it: a planner `PodInput` plus who owns it and what it runs. */
export interface FleetPod extends PodInput {
  /** Owning DaemonSet, `namespace/name`. */
  daemonSet: string;
  /** Container images, in template order. */
  images: string[];
  /** The first image (what `get pods` shows); absent when the pod has no image. */
  image?: string;
  /** Epoch ms of creation (the fleet's clock); always set by a driver. */
  createdAt: number;
  /** The Ready condition; always set by a driver. */
  ready: boolean;
  phase: PodPhase;
  /** Free-form creator id (worker replica, CLI) given to {@link FleetDriver.createPod}. */
  createdBy?: string;
  /** The idempotency key the pod was created with. */
  idempotencyKey?: string;
  /** Epoch ms of deletion; only on the last-known state of a deleted pod (see {@link CreatePodResult}). */
  deletedAt?: number;
}

/** Nodes plus one DaemonSet's pods, read at one instant. */
export interface FleetSnapshot {
  /** Every node, sorted by name in plain string order (`node-1 < node-10 < node-2`). */
  nodes: NodeInput[];
  /** The DaemonSet's pods, oldest first (`createdAt`, then name), readiness materialised as of {@link now}. */
  pods: FleetPod[];
  /** The fleet's clock (for `sim`: the Redis server `TIME`) in epoch ms at the moment of the read. */
  now: number;
}

/** A request to run one DaemonSet pod on one node. */
export interface CreatePodRequest {
  /** Owning DaemonSet, `namespace/name`. */
  daemonSet: string;
  node: string;
  /** Revision hash (Kubernetes' `controller-revision-hash`). */
  revision: string;
  /** Pod name, unique among the DaemonSet's live pods. */
  podName: string;
  /** Container images, in template order. */
  images: string[];
  /**
   * Makes the call idempotent: a second call with the same key never creates a second pod, even after the first pod
   * was deleted. Use a deterministic value such as the BullMQ job id, so a job retried after a crash does not update a
   * node twice.
   */
  idempotencyKey: string;
  /** Free-form creator id recorded on the pod. */
  createdBy?: string;
}

/** Result of {@link FleetDriver.createPod}. */
export interface CreatePodResult {
  /** `false` when the idempotency key had been used already; nothing was changed then. */
  created: boolean;
  /**
   * The pod: the new one, or the one created earlier under the same key (its current state, or its last-known state
   * with `deleting: true` and `deletedAt` when it has been deleted since).
   */
  pod: FleetPod;
}

/** A {@link CreatePodRequest} that may also clear the node of other revisions first. */
export interface ConvergeNodeRequest extends CreatePodRequest {
  deleteOtherRevisions: boolean;
}

export interface ConvergeNodeResult extends CreatePodResult {
  /** Names of the pods deleted. */
  deleted: string[];
}

/** A pod transition. `not-ready` is a Ready→NotReady change; a deleted pod gets only `deleted`. */
export type TimelineEvent = 'created' | 'ready' | 'not-ready' | 'deleted';

/** One pod transition with the time it happened (not the time it was observed). */
export interface TimelineEntry {
  /** Opaque, strictly increasing cursor; pass it as `afterId` to page. */
  id: string;
  /** Epoch ms of the transition. */
  ts: number;
  event: TimelineEvent;
  daemonSet: string;
  node: string;
  pod: string;
  revision: string;
}

/** Options of {@link FleetDriver.timeline}. */
export interface TimelineQuery {
  /** Only entries with `ts >= sinceTs`. */
  sinceTs?: number;
  /** Only entries after this {@link TimelineEntry.id} (exclusive); wins over `sinceTs`. */
  afterId?: string;
  /** At most this many entries (the oldest first). @defaultValue all */
  limit?: number;
}

/**
 * What the reconciler needs from a fleet. Implementations are named by mechanism (`SimulatedFleetDriver`).
 *
 * Invariants every driver keeps:
 * - every pod transition is in the timeline with the time it happened, and the timeline is ordered by `ts`;
 * - pods on a node that is not ready are not ready (the node lifecycle controller's job in Kubernetes);
 * - `createPod` is idempotent per `idempotencyKey`; `deletePod` of a pod already gone is a silent `false`.
 */
export interface FleetDriver {
  /** Nodes plus that DaemonSet's pods, with readiness materialised as of `now`, in one consistent read. */
  snapshot(daemonSet: string): Promise<FleetSnapshot>;
  /** Every node, sorted by name. */
  listNodes(): Promise<NodeInput[]>;
  /** Pods of one DaemonSet, or of all DaemonSets, oldest first. */
  listPods(daemonSet?: string): Promise<FleetPod[]>;
  /** One DaemonSet's pods on one node (what a node job looks at), with the fleet's clock. */
  podsOnNode(daemonSet: string, node: string): Promise<{ now: number; pods: FleetPod[] }>;
  /** Creates a pod; see {@link CreatePodRequest.idempotencyKey}. Fails when the node does not exist. */
  createPod(req: CreatePodRequest): Promise<CreatePodResult>;
  /**
   * A node update in one step: unless the idempotency key was used before, deletes the
   * DaemonSet's pods of other revisions on the node (when asked), then creates the pod unless a
   * live pod of that revision is there already (then that pod is returned, `created: false`).
   */
  convergeNode(req: ConvergeNodeRequest): Promise<ConvergeNodeResult>;
  /** Deletes a pod; `false` when it was already gone. */
  deletePod(daemonSet: string, podName: string): Promise<boolean>;
  /** Adds a node, or replaces its labels, taints and flags when it exists. */
  addNode(node: NodeInput): Promise<void>;
  /** Removes a node; `false` when it did not exist. */
  removeNode(name: string): Promise<boolean>;
  /** Marks a node Ready or NotReady; `false` when it does not exist. */
  setNodeReady(name: string, ready: boolean): Promise<boolean>;
  /** Pod transitions, ascending by `ts`, complete up to the moment of the call. */
  timeline(query?: TimelineQuery): Promise<TimelineEntry[]>;
  /** The fleet's clock in epoch ms. */
  now(): Promise<number>;
}
