/**
 * Kubernetes `IntOrString` as used by `maxUnavailable` and `maxSurge` (daemonset-semantics.md §2.2, §2.3).
 */
import type { IntOrString } from '../domain/kubernetes.js';

const PERCENT = /^[0-9]+%$/;
const GO_ATOI = /^[+-]?[0-9]+$/;

/**
 * Whether `value` has the syntax the API server accepts for an int-or-percent field: a non-negative
 * integer, or a string of digits followed by `%`. The range (`≤ 100%`) is a separate rule.
 */
export function isIntOrPercent(value: unknown): value is IntOrString {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  return typeof value === 'string' && PERCENT.test(value);
}

/** The number in a `"p%"` string, or `undefined` when `value` is not a well-formed percentage. */
export function percentValue(value: unknown): number | undefined {
  if (typeof value !== 'string' || !PERCENT.test(value)) return undefined;
  return Number(value.slice(0, -1));
}

/**
 * The number the API server's validation compares with zero: the `p` of `"p%"`, an integer as is,
 * and for any other string what Go's `strconv.Atoi` makes of it (`"50"` → 50, `"abc"` → 0), because
 * that is how `intstr.IntValue` decides which of the "exactly one non-zero" errors to report.
 */
export function intOrPercentValue(value: unknown): number {
  const percent = percentValue(value);
  if (percent !== undefined) return percent;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'string' && GO_ATOI.test(value)) return Number(value);
  return 0;
}

/**
 * "Zero" in the sense of the rolling-update rules: integer `0` or a percentage whose number is 0
 * (`"0%"`, `"00%"`). Used to decide between the surge and the delete-first rollout.
 */
export function isZeroIntOrPercent(value: IntOrString): boolean {
  return intOrPercentValue(value) === 0;
}

/**
 * Turns `maxUnavailable`/`maxSurge` into a node count, as `intstr.GetScaledValueFromIntOrPercent`
 * with `roundUp = true` does for DaemonSets: an integer is returned unchanged (no clamping to
 * `total`), `"p%"` gives `ceil(p × total / 100)`, so any non-zero percentage of a non-empty fleet
 * is at least 1 and any percentage of 0 is 0.
 *
 * @param value - validated int-or-percent value
 * @param total - `desiredNumberScheduled` (eligible nodes), never the raw node count
 * @throws TypeError when `value` is neither an integer nor a `"p%"` string, or `total` is not a
 *   non-negative integer; validation rejects such manifests before a plan is made.
 */
export function scaledValue(value: number | string, total: number): number {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new TypeError(`total must be a non-negative integer, got ${String(total)}`);
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`int-or-percent must be an integer, got ${value}`);
    return value;
  }
  const percent = percentValue(value);
  if (percent === undefined) {
    throw new TypeError(`invalid value for IntOrString: ${JSON.stringify(value)} is not an integer or percentage`);
  }
  return Math.ceil((percent * total) / 100);
}
