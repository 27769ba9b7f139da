/**
 * Errors of writing changes to Git (rollback, set image, pause). Messages say what failed on which input and never
 * carry credentials (git output goes through `sanitizeMessage` first).
 */
import { StallingError, TransientError } from '../errors.js';

/** `rollout undo --to-revision N` with an N the history does not hold (never existed, or pruned). */
export class RevisionNotFoundError extends StallingError {
  readonly code = 'DSCTL_REVISION_NOT_FOUND';
  constructor(
    readonly revision: number,
    readonly existing: readonly number[],
  ) {
    super(
      `unable to find specified revision ${revision} in history ` +
        `(revisions: ${existing.length > 0 ? existing.join(', ') : 'none'})`,
    );
  }
}

/** `rollout undo` without `--to-revision` on a DaemonSet with a single revision. */
export class NoPreviousRevisionError extends StallingError {
  readonly code = 'DSCTL_NO_PREVIOUS_REVISION';
  constructor(readonly existing: readonly number[]) {
    super(`no last revision to roll back to (revisions: ${existing.length > 0 ? existing.join(', ') : 'none'})`);
  }
}

/** `set image` names a container the template does not have. */
export class ContainerNotFoundError extends StallingError {
  readonly code = 'DSCTL_CONTAINER_NOT_FOUND';
  constructor(
    readonly container: string,
    readonly containers: readonly string[],
  ) {
    super(
      `unable to find container named "${container}" ` +
        `(containers: ${containers.length > 0 ? containers.join(', ') : 'none'})`,
    );
  }
}

/** The DaemonSet is unknown to the history, or no manifest file at the branch tip defines it. */
export class DaemonSetNotInGitError extends StallingError {
  readonly code = 'DSCTL_DAEMONSET_NOT_IN_GIT';
}

/** The manifest could not be edited safely (broken YAML, anchors that tie fields together, invalid result). */
export class ManifestEditError extends StallingError {
  readonly code = 'DSCTL_MANIFEST_EDIT_FAILED';
}

/**
 * The remote refused the push for a reason other than a race: no permission, a read-only remote, a protected branch,
 * a rejecting hook. Carries the change as a `git format-patch` mail so a person can apply it by hand (`git am`).
 */
export class GitPushRejectedError extends StallingError {
  readonly code = 'DSCTL_GIT_PUSH_REJECTED';
  constructor(
    readonly displayUrl: string,
    readonly reason: string,
    readonly patch: string,
  ) {
    super(
      `the repository ${displayUrl} refused the push (${reason}): it is not writable for dsctl ` +
        `(read-only remote, protected branch or missing permission). Apply this change by hand with "git am":\n\n${patch}`,
    );
  }
}

/** A git command of the writer failed (network, auth on fetch, timeout), or every retry of a racing push lost. */
export class GitWriteError extends TransientError {
  readonly code = 'DSCTL_GIT_WRITE_FAILED';
}
