/**
 * The contract between the HTTP API, the worker and the CLI for changes written to Git (issue 6). JSON-serialisable.
 *
 * Routes (all mutating, so they need the API token, or a loopback client when the worker has none):
 * - `POST /api/v1/namespaces/:ns/daemonsets/:name/rollback` `{ toRevision?, dryRun? }`: `rollout undo`;
 * - `POST /api/v1/namespaces/:ns/daemonsets/:name/image` `{ images: { CONTAINER: IMAGE }, dryRun? }`: `set image`;
 * - `POST /api/v1/namespaces/:ns/daemonsets/:name/paused` `{ paused, dryRun? }`: `rollout pause|resume` as a commit
 *   of the `dsctl.dev/paused` annotation. The older `POST .../pause` and `.../resume` stay the runtime pause (a Redis
 *   flag, no commit): the brake that works when Git cannot be written.
 * Each answers 200 with a {@link ChangeResult}; 501 `NotImplemented` when the worker has no Git write access.
 */

/** A DaemonSet by namespace and name. */
export interface DaemonSetKey {
  readonly namespace: string;
  readonly name: string;
}

/** The outcome of one change. */
export interface ChangeResult {
  /**
   * `committed`: a commit is on the remote branch; `skipped`: nothing to change (already so); `dry-run`: computed,
   * nothing written; `runtime`: a pause that could not be committed and was applied as a runtime pause instead.
   */
  outcome: 'committed' | 'skipped' | 'dry-run' | 'runtime';
  /** What kubectl would print, e.g. `daemonset.apps/filebeat-ds rolled back`. */
  message: string;
  /** The pushed commit. */
  commit?: string;
  /** The commit message (also for a dry run). */
  commitMessage?: string;
  /** Unified diff of the change (also for a dry run). */
  diff?: string;
  /** Repository-relative file that was (or would be) changed. */
  file?: string;
  /** Push attempts (more than 1 when the branch moved meanwhile). */
  attempts?: number;
  /** The revision a rollback restores. */
  revision?: number;
  /** Things the user should know (comments that could not be kept, a pause applied at runtime only, ...). */
  warnings?: string[];
}

export interface RollbackRequest {
  /** 0 or absent: the revision before the current one. */
  toRevision?: number;
  dryRun?: boolean;
}

export interface SetImageRequest {
  /** Container name (or `*` for all) → image. */
  images: Record<string, string>;
  dryRun?: boolean;
}

export interface SetPausedRequest {
  paused: boolean;
  dryRun?: boolean;
}

/** Changes through Git, as the worker (and the CLI with `--repo`) offers them. */
export interface GitOpsApi {
  rollback(ref: DaemonSetKey, request: RollbackRequest): Promise<ChangeResult>;
  setImage(ref: DaemonSetKey, request: SetImageRequest): Promise<ChangeResult>;
  setPaused(ref: DaemonSetKey, request: SetPausedRequest): Promise<ChangeResult>;
}
