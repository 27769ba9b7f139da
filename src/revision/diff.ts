/**
 * RFC 6902 patch between two revisions' templates, for `rollout history --revision N`.
 * Both sides are canonicalised first, so the patch shows real changes only (no key-order or
 * empty-field noise) and applies to the canonical template of the earlier revision.
 */
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { canonicalize } from './canonical.js';

export type TemplatePatch = Operation[];

export function diffTemplates(from: unknown, to: unknown): TemplatePatch {
  const a = canonicalize(from) ?? {};
  const b = canonicalize(to) ?? {};
  return fastJsonPatch.compare(a as object, b as object);
}
