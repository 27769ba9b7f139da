/**
 * Canonical form of a pod template: what two templates must share to be "the same revision".
 *
 * Object keys are sorted recursively, array order is kept, and `null`, empty objects and empty
 * arrays are dropped (the API server drops them too), so key order, YAML style, comments and
 * `labels: {}` never make a new revision, while any real field change does.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Returns the canonical value, or `undefined` when the value is empty and should be dropped. */
export function canonicalize(value: unknown): Json | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    // Positions inside a list carry meaning (containers, args), so empty items stay as `{}`/`[]`/null.
    return value.map((item) => canonicalize(item) ?? emptyLike(item));
  }
  if (typeof value === 'object') {
    // A null prototype, so a manifest key named __proto__ is data, not the object's prototype.
    const out: { [key: string]: Json } = Object.create(null) as { [key: string]: Json };
    for (const key of Object.keys(value).sort()) {
      const v = canonicalize((value as Record<string, unknown>)[key]);
      if (v !== undefined) out[key] = v;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

function emptyLike(value: unknown): Json {
  if (Array.isArray(value)) return [];
  if (value !== null && typeof value === 'object') return {};
  return null;
}

/** Canonical JSON text of a template; equal text means equal revision content. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value) ?? {});
}
