/**
 * The rolling-update budget: maxUnavailable and maxSurge resolved against the desired node
 * count (daemonset-semantics.md §2.3, §8.1), rounded up as Kubernetes does.
 */
import type { DaemonSet } from '../domain/kubernetes.js';
import { scaledValue } from '../manifest/int-or-percent.js';

export interface RollingBudget {
  maxUnavailable: number;
  maxSurge: number;
}

function rollingUpdateOf(ds: DaemonSet) {
  return ds.spec?.updateStrategy?.type === 'RollingUpdate' ? ds.spec.updateStrategy.rollingUpdate : undefined;
}

/** Kubernetes `updatedDesiredNodeCounts`: an impossible 0/0 configuration obeys maxUnavailable = 1. */
export function rollingBudget(ds: DaemonSet, desired: number): RollingBudget {
  const rolling = rollingUpdateOf(ds);
  const maxUnavailable = rolling?.maxUnavailable === undefined ? 0 : scaledValue(rolling.maxUnavailable, desired);
  const maxSurge = rolling?.maxSurge === undefined ? 0 : scaledValue(rolling.maxSurge, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) return { maxUnavailable: 1, maxSurge: 0 };
  return { maxUnavailable, maxSurge };
}

/** Kubernetes `AllowsSurge`: maxSurge scaled against 1 is non-zero (any non-zero int or percent). */
export function allowsSurge(ds: DaemonSet): boolean {
  const rolling = rollingUpdateOf(ds);
  return rolling?.maxSurge !== undefined && scaledValue(rolling.maxSurge, 1) > 0;
}
