/** dsctl's annotations on a DaemonSet (extensions beyond Kubernetes). */
import type { DaemonSet } from '../domain/kubernetes.js';

export const ANNOTATION_PAUSED = 'dsctl.dev/paused';
export const ANNOTATION_PARTITION = 'dsctl.dev/partition';
export const ANNOTATION_PROGRESS_DEADLINE = 'dsctl.dev/progress-deadline-seconds';
export const ANNOTATION_AUTO_ROLLBACK = 'dsctl.dev/auto-rollback';

function annotation(ds: DaemonSet, key: string): string | undefined {
  const value = ds.metadata?.annotations?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function isPausedByAnnotation(ds: DaemonSet): boolean {
  return annotation(ds, ANNOTATION_PAUSED) === 'true';
}

/** Number of nodes kept on the old revision (canary); 0 when absent or not a non-negative integer. */
export function partitionOf(ds: DaemonSet): number {
  const value = annotation(ds, ANNOTATION_PARTITION);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : 0;
}

/** Seconds without progress before the rollout is failed; undefined when not set. */
export function progressDeadlineOf(ds: DaemonSet): number | undefined {
  const value = annotation(ds, ANNOTATION_PROGRESS_DEADLINE);
  return value !== undefined && /^\d+$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
}
