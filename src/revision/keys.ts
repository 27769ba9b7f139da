/**
 * Redis key layout of the Git-derived history (one builder, like BullMQ's `QueueKeys`). Every key
 * sits under one hash tag `{<prefix>}` so a Lua script may touch them all, also on Redis Cluster.
 *
 * ```text
 * {p}:git:cursor                 string  last processed commit (full sha)
 * {p}:git:meta                   string  JSON SourceMeta: url (redacted), branch, path, head, syncedAt, rebuild info
 * {p}:git:status                 string  JSON SourceStatus: fetch failures, nextRetryAt, lastError
 * {p}:git:files                  hash    manifest file path -> JSON FileRecord {blob, keys, pending?, notRegular?}
 * {p}:git:pending                set     files to re-read at the next commit (after a refused emptying commit)
 * {p}:git:claims                 hash    "ns/name" -> JSON string[] of files defining it (first = owner)
 * {p}:git:errors                 hash    file ('' = the tracked path itself) -> JSON ManifestError[]
 * {p}:ds:index                   set     every known "ns/name"
 * {p}:ds:<ns>/<name>:revisions   string  JSON DaemonSetHistory (revisions with templates, generations)
 * {p}:ds:<ns>/<name>:desired     string  JSON DesiredState (latest good DaemonSet object and where it came from)
 * {p}:ds:<ns>/<name>:errors      string  JSON ManifestError[] currently holding this DaemonSet back
 * ```
 */

const PREFIX = /^[A-Za-z0-9_.-]+$/;

export interface HistoryKeys {
  readonly cursor: string;
  readonly meta: string;
  readonly status: string;
  readonly files: string;
  readonly pending: string;
  readonly claims: string;
  readonly errors: string;
  readonly index: string;
  revisions(key: string): string;
  desired(key: string): string;
  dsErrors(key: string): string;
}

/** Key builder for `prefix` (letters, digits, `_`, `.`, `-`). @defaultValue prefix `dsctl` */
export function historyKeys(prefix = 'dsctl'): HistoryKeys {
  if (!PREFIX.test(prefix)) throw new Error(`invalid Redis prefix ${JSON.stringify(prefix)}`);
  const tag = `{${prefix}}`;
  return {
    cursor: `${tag}:git:cursor`,
    meta: `${tag}:git:meta`,
    status: `${tag}:git:status`,
    files: `${tag}:git:files`,
    pending: `${tag}:git:pending`,
    claims: `${tag}:git:claims`,
    errors: `${tag}:git:errors`,
    index: `${tag}:ds:index`,
    revisions: (key) => `${tag}:ds:${key}:revisions`,
    desired: (key) => `${tag}:ds:${key}:desired`,
    dsErrors: (key) => `${tag}:ds:${key}:errors`,
  };
}
