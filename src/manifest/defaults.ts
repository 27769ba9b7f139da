/**
 * DaemonSet-level defaults of the API server (`SetDefaults_DaemonSet` in apps/v1, plus kubectl's
 * namespace), daemonset-semantics.md §2.1.
 */
import type { DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, ObjectMeta } from '../domain/kubernetes.js';

/** Namespace of an object whose manifest names none (kubectl's default context namespace). */
export const DEFAULT_NAMESPACE = 'default';
/** `spec.revisionHistoryLimit` when absent. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
/** `spec.updateStrategy.rollingUpdate.maxUnavailable` when absent (RollingUpdate only). */
export const DEFAULT_MAX_UNAVAILABLE = 1;
/** `spec.updateStrategy.rollingUpdate.maxSurge` when absent (RollingUpdate only). */
export const DEFAULT_MAX_SURGE = 0;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUnset(value: unknown): boolean {
  return value === undefined || value === null;
}

/**
 * Returns a copy of `ds` with the DaemonSet-level defaults filled in:
 * `metadata.namespace` `"default"`; `spec.updateStrategy.type` `RollingUpdate`; for RollingUpdate
 * only, `rollingUpdate.maxUnavailable` 1 and `rollingUpdate.maxSurge` 0; `revisionHistoryLimit` 10;
 * `minReadySeconds` 0. `null` counts as absent, as it does for the API server.
 *
 * Nothing inside `spec.template` is added or changed: the revision hash is computed on the template
 * as written, and pod-level defaults would make a revision differ from the one Git shows.
 *
 * Pure and idempotent. The input is never mutated; unchanged subtrees (the template among them) are
 * shared with the input, so treat both as immutable. Fields of the wrong type are left alone for
 * {@link validateDaemonSet} to report, and input that is not an object is returned as is: the
 * function never throws.
 */
export function applyDaemonSetDefaults(ds: DaemonSet): DaemonSet {
  if (!isRecord(ds)) return ds;
  try {
    const out: DaemonSet = { ...ds };

    const metadata: unknown = ds.metadata;
    if (isUnset(metadata)) {
      out.metadata = { namespace: DEFAULT_NAMESPACE };
    } else if (isRecord(metadata) && (isUnset(metadata.namespace) || metadata.namespace === '')) {
      out.metadata = { ...(metadata as ObjectMeta), namespace: DEFAULT_NAMESPACE };
    }

    const specIn: unknown = ds.spec;
    if (!isUnset(specIn) && !isRecord(specIn)) return out;
    const spec: DaemonSetSpec = { ...((specIn as DaemonSetSpec | null | undefined) ?? {}) };
    out.spec = spec;

    const strategyIn: unknown = spec.updateStrategy;
    if (isUnset(strategyIn) || isRecord(strategyIn)) {
      const strategy: DaemonSetUpdateStrategy = { ...((strategyIn as DaemonSetUpdateStrategy | null) ?? {}) };
      if (isUnset(strategy.type) || strategy.type === '') strategy.type = 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        const rollingIn: unknown = strategy.rollingUpdate;
        if (isUnset(rollingIn) || isRecord(rollingIn)) {
          const rolling = { ...((rollingIn as Record<string, unknown> | null) ?? {}) };
          if (isUnset(rolling.maxUnavailable)) rolling.maxUnavailable = DEFAULT_MAX_UNAVAILABLE;
          if (isUnset(rolling.maxSurge)) rolling.maxSurge = DEFAULT_MAX_SURGE;
          strategy.rollingUpdate = rolling;
        }
      }
      spec.updateStrategy = strategy;
    }
    if (isUnset(spec.revisionHistoryLimit)) spec.revisionHistoryLimit = DEFAULT_REVISION_HISTORY_LIMIT;
    if (isUnset(spec.minReadySeconds)) spec.minReadySeconds = 0;
    return out;
  } catch {
    // A getter or proxy that throws: leave the object as it was rather than fail the caller.
    return ds;
  }
}
