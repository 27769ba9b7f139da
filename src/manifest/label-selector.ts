/**
 * Label selector matching as `metav1.LabelSelectorAsSelector(...).Matches(labels)` does it.
 */
import type { LabelSelector } from '../domain/kubernetes.js';

function ownString(record: Record<string, unknown> | undefined, key: string): string | undefined {
  if (record === undefined || !Object.hasOwn(record, key)) return undefined;
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether `labels` satisfy `selector`. An absent selector matches nothing and an empty one
 * (`{}`) matches everything, as in Kubernetes; `In`/`NotIn` compare exact strings, `NotIn` and
 * `DoesNotExist` hold when the key is absent. The selector is assumed valid (see
 * `validateDaemonSet`); an unknown operator matches nothing.
 */
export function labelSelectorMatches(
  selector: LabelSelector | null | undefined,
  labels: Record<string, string> | null | undefined,
): boolean {
  if (selector === null || selector === undefined || typeof selector !== 'object') return false;
  const set = labels !== null && typeof labels === 'object' ? (labels as Record<string, unknown>) : undefined;
  const matchLabels = selector.matchLabels;
  if (matchLabels !== null && typeof matchLabels === 'object') {
    for (const [key, want] of Object.entries(matchLabels)) {
      if (ownString(set, key) !== want) return false;
    }
  }
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  for (const expr of expressions) {
    if (expr === null || typeof expr !== 'object') return false;
    const have = ownString(set, expr.key);
    const values = Array.isArray(expr.values) ? expr.values : [];
    switch (expr.operator) {
      case 'In':
        if (have === undefined || !values.includes(have)) return false;
        break;
      case 'NotIn':
        if (have !== undefined && values.includes(have)) return false;
        break;
      case 'Exists':
        if (have === undefined) return false;
        break;
      case 'DoesNotExist':
        if (have !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
