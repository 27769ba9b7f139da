/**
 * dsctl library entry: the contracts of spec/product.md.
 */
export { templateHash } from './revision/hash.js';
export { diffTemplates } from './revision/diff.js';
export { canonicalJson } from './revision/canonical.js';
export type * from './domain/kubernetes.js';
export type * from './domain/plan.js';
export { parseManifests, applyDaemonSetDefaults, validateDaemonSet, scaledValue } from './manifest/index.js';
export type { ParseResult, ManifestError, ManifestSource, SkippedDocument, ParseOptions } from './manifest/index.js';
export { planRollout, observeStatus, type PlanOptions } from './rollout/index.js';
export { InvalidDaemonSetError, DsctlError } from './errors.js';
