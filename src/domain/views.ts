/**
 * What the worker's API returns and the CLI prints: DaemonSets with status, history, events.
 * JSON-serialisable; `-o json` prints these shapes (spec/product.md "CLI").
 */
import type { DaemonSetSpec, ObjectMeta } from './kubernetes.js';
import type { PlanStatus } from './plan.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  /** `Progressing`, `Available`, `Stalled`, `SourceFetchFailed`, `ManifestInvalid`, ... */
  type: string;
  status: ConditionStatus;
  /** CamelCase reason, e.g. `NewRevisionRollingOut`, `BudgetExhausted`, `ProgressDeadlineExceeded`. */
  reason: string;
  message: string;
  /** ISO time of the last status change of this condition. */
  lastTransitionTime: string;
}

export interface DaemonSetStatusView extends PlanStatus {
  observedGeneration: number;
  /** Hash of the revision most nodes ran before the rollout (Kubernetes has no such field; dsctl D7). */
  currentRevision: string;
  /** Hash of the revision being rolled out (the template in Git). */
  updateRevision: string;
  /** Revision numbers matching the hashes above, for people. */
  currentRevisionNumber?: number;
  updateRevisionNumber?: number;
  paused: boolean;
  conditions: Condition[];
  collisionCount?: number;
}

export interface DaemonSetView {
  apiVersion: 'apps/v1';
  kind: 'DaemonSet';
  metadata: ObjectMeta & { name: string; namespace: string; generation: number; creationTimestamp: string };
  spec: DaemonSetSpec;
  status: DaemonSetStatusView;
}

/** One line of `rollout history` (oldest first by revision number). */
export interface HistoryEntry {
  revision: number;
  hash: string;
  commit: string;
  author: string;
  /** ISO date of the commit. */
  date: string;
  subject: string;
  changeCause: string;
  path: string;
}

/** A Kubernetes-style event on a DaemonSet (source `daemonset-controller` or `dsctl`). */
export interface EventView {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  from: string;
  /** Epoch ms (of the latest occurrence, for a combined event). */
  ts: number;
  /** A combined event (Kubernetes' event aggregation): how many events it stands for. */
  count?: number;
  /** A combined event: epoch ms of its first occurrence. */
  firstTs?: number;
}
