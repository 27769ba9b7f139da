/**
 * What the worker needs from the Git side: the desired DaemonSets and their revisions, as the
 * last Git sync left them in Redis.
 */
import type { DaemonSet } from '../domain/kubernetes.js';
import type { HistoryEntry } from '../domain/views.js';

export interface ManifestProblem {
  commit: string;
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface DesiredDaemonSet {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  /** The last good manifest, DaemonSet-level defaults applied. */
  daemonSet: DaemonSet;
  /** Hash of the template's revision. */
  updateRevision: string;
  updateRevisionNumber: number;
  /** +1 per `.spec` change in Git. */
  generation: number;
  /** +1 per template change (`deprecated.daemonset.template.generation`). */
  templateGeneration: number;
  /** ISO date of the commit that introduced the DaemonSet. */
  createdAt: string;
  /** Problems of later commits that were not applied (the DaemonSet keeps its last good state). */
  errors: ManifestProblem[];
  /** Removed from Git with pruning on: its pods are to be deleted. */
  deleted: boolean;
}

export interface DesiredStateReader {
  /** Keys of every DaemonSet known, including deleted ones not yet cleaned up. */
  list(): Promise<string[]>;
  get(key: string): Promise<DesiredDaemonSet | undefined>;
  history(key: string, opts?: { all?: boolean }): Promise<HistoryEntry[] | undefined>;
  /** Drops a deleted DaemonSet once its pods are gone. */
  forget(key: string): Promise<void>;
  /** The source's own condition (e.g. SourceFetchFailed), when the last sync failed. */
  sourceCondition(): Promise<{ reason: string; message: string; since: number } | undefined>;
}
