/**
 * The seam between the Git-reading shell and the revision logic: a `GitSource` yields commits
 * and blobs, never parsed YAML (style.md §6.1). {@link SimpleGitSource} is the real one.
 */

/** One file changed by a commit, relative to its first parent. */
export interface FileChange {
  /** Repository-relative path. */
  readonly path: string;
  /** `A` added, `M` modified, `D` deleted, `T` type changed (git's raw status letters). */
  readonly status: 'A' | 'M' | 'D' | 'T';
  /** Blob id of the new content; `null` when the file is gone or is no longer a regular file. */
  readonly blob: string | null;
  /**
   * Set (with `blob: null`) when the path now holds something other than a regular file: a
   * symbolic link (mode 120000, never followed: it may point outside the repository) or a
   * submodule (mode 160000). The sync reports it as an error instead of reading a deletion.
   */
  readonly notRegular?: NotRegularFile;
}

/** What a path holds instead of a regular file (see {@link FileChange.notRegular}). */
export type NotRegularFile = 'symbolic link' | 'submodule';

/** A commit of the first-parent chain with its changes under the tracked path. */
export interface CommitChanges {
  readonly commit: string;
  readonly parents: readonly string[];
  readonly author: string;
  readonly authorEmail: string;
  /** Author date, strict ISO 8601 as git prints it (`%aI`), e.g. `2024-05-01T10:00:00+02:00`. */
  readonly date: string;
  readonly subject: string;
  readonly files: readonly FileChange[];
}

/** Whether `cursor` is still on the first-parent chain of the new head. */
export type CursorCheck = 'descendant' | 'diverged' | 'unknown';

/** {@link GitSource.changesSince}: the cursor check and, for a descendant, the new commits. */
export interface ChangesSince {
  readonly check: CursorCheck;
  /** `listChanges(cursor, head, path)` when `check` is `descendant`, else empty. */
  readonly commits: CommitChanges[];
}

export interface GitSource {
  /** The repository address with credentials redacted, for messages. */
  readonly displayUrl: string;
  readonly branch: string;
  /** Brings the local clone up to date and returns the branch head. One network round trip. */
  fetch(): Promise<string>;
  /**
   * `descendant` when `cursor` is `head` or a first-parent ancestor of it (a fast-forward),
   * `diverged` after a force-push (or a merge that made the old head a second parent),
   * `unknown` when the cursor commit does not exist in the clone.
   */
  checkCursor(cursor: string, head: string): Promise<CursorCheck>;
  /**
   * Every commit of the first-parent chain in `(from, to]` (from the root when `from` is null),
   * oldest first, that changes something under `path`, with its changed files. One git process.
   */
  listChanges(from: string | null, to: string, path: string): Promise<CommitChanges[]>;
  /**
   * Optional: `checkCursor(cursor, head)` and, when `descendant`, `listChanges(cursor, head, path)`
   * in one walk. {@link GitSync} uses it when present.
   */
  changesSince?(cursor: string, head: string, path: string): Promise<ChangesSince>;
  /** Contents of the given blobs as UTF-8 text (missing blobs are left out). */
  readBlobs(blobs: readonly string[]): Promise<Map<string, string>>;
  /** Optional: releases long-lived resources (child processes); the source stays usable. */
  close?(): Promise<void>;
}
