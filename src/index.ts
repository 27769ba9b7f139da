/**
 * dsctl library entry: the contracts of spec/product.md.
 */
export { templateHash } from './revision/hash.js';
export { diffTemplates } from './revision/diff.js';
export { canonicalJson } from './revision/canonical.js';
export type * from './domain/kubernetes.js';
export type * from './domain/plan.js';
