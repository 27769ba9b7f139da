/**
 * The service the HTTP API exposes: reads of desired and observed state, and the few mutations
 * (pod deletion, pause, fleet changes, sync triggers). The worker implements it on Redis, Git and
 * the fleet driver; the HTTP layer only translates HTTP to these calls and back.
 */
import type { NodeInput } from '../domain/plan.js';
import type { DaemonSetView, EventView, HistoryEntry } from '../domain/views.js';
import type { FleetPod, TimelineEntry, TimelineQuery } from '../fleet/driver.js';
import type { GitOpsApi } from '../gitops/types.js';

export interface DaemonSetRef {
  namespace: string;
  name: string;
}

/** Why a sync was asked for; recorded on the sync job. */
export interface SyncTrigger {
  reason: 'webhook' | 'startup' | 'api' | 'poll';
  /** Commit sha the pusher announced, when known (the sync still reads the branch tip). */
  commit?: string;
  /** Webhook delivery id, for deduplication. */
  deliveryId?: string;
}

export interface ControlPlane {
  listDaemonSets(namespace?: string): Promise<DaemonSetView[]>;
  getDaemonSet(ref: DaemonSetRef): Promise<DaemonSetView | undefined>;
  /** Revisions oldest first; `all` ignores revisionHistoryLimit. Undefined when the DaemonSet is unknown. */
  history(ref: DaemonSetRef, opts?: { all?: boolean }): Promise<HistoryEntry[] | undefined>;
  events(ref: DaemonSetRef): Promise<EventView[]>;
  listNodes(): Promise<NodeInput[]>;
  listPods(filter?: { namespace?: string; daemonSet?: string }): Promise<FleetPod[]>;

  /** Deletes a pod by name (any DaemonSet of the namespace); false when there is no such pod. */
  deletePod(namespace: string, podName: string): Promise<boolean>;
  /** Runtime pause (API); the `dsctl.dev/paused` annotation in Git also pauses. */
  setPaused(ref: DaemonSetRef, paused: boolean): Promise<boolean>;

  addNode(node: NodeInput): Promise<void>;
  removeNode(name: string): Promise<boolean>;
  setNodeReady(name: string, ready: boolean): Promise<boolean>;
  timeline(query?: TimelineQuery): Promise<TimelineEntry[]>;

  /** Fetch Git and reconcile now (a BullMQ job, deduplicated, coalesced with others). */
  requestSync(trigger: SyncTrigger): Promise<void>;
  /** Ready to serve: Redis answers and the first sync finished. */
  ready(): Promise<boolean>;
  /** Changes written to Git as commits (rollback, set image, pause); absent when this process cannot write Git. */
  readonly gitOps?: GitOpsApi;
}
