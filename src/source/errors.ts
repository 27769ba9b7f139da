/** Errors of the Git source. Messages are sanitized: they never carry URL credentials. */
import { StallingError, TransientError } from '../errors.js';

/** Bad repository, branch or path input (from CLI flags, config or a webhook): never retried. */
export class InvalidSourceInputError extends StallingError {
  readonly code = 'DSCTL_INVALID_SOURCE_INPUT';
  constructor(
    readonly field: 'url' | 'branch' | 'path' | 'commit',
    message: string,
  ) {
    super(message);
  }
}

/** A git command failed (network, auth, missing branch, timeout): retried with backoff. */
export class GitSourceError extends TransientError {
  readonly code = 'DSCTL_GIT_SOURCE_FAILED';
  constructor(
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation}: ${message}`, options);
  }
}
