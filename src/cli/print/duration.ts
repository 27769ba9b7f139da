/**
 * Durations the kubectl way: {@link humanDuration} is apimachinery's `duration.HumanDuration` (the AGE column and event
 * ages: `45s`, `3m20s`, `12m`, `5h30m`, `3d`), {@link parseDuration} reads Go duration strings (`--timeout=5m`).
 */
import { CliError } from '../errors.js';

/**
 * kubectl's short age: ~2–3 significant figures. `<invalid>` more than 1 s in the future, then seconds below 2 min,
 * `XmYs` below 10 min, minutes below 3 h, `XhYm` below 8 h, hours below 48 h, `XdYh` below 8 d, days below 2 y,
 * `XyYd` below 8 y, years beyond.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Age of an ISO timestamp or epoch ms at `now`; `<unknown>` when absent or unparsable (kubectl's wording). */
export function age(created: string | number | undefined, now: number): string {
  if (created === undefined) return '<unknown>';
  const t = typeof created === 'number' ? created : Date.parse(created);
  return Number.isFinite(t) ? humanDuration(now - t) : '<unknown>';
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A Go duration (`300ms`, `1.5s`, `5m`, `1h30m`) in milliseconds. A bare number is seconds (`--timeout=30`); `0` is
 * zero. Anything else is bad usage (exit 2) naming the flag.
 */
export function parseDuration(text: string, flag: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (s.length === 0 || consumed !== s.length) {
    throw new CliError(`invalid value "${text}" for ${flag}: expected a duration such as 30s, 5m or 1h30m`, 2);
  }
  return total;
}
