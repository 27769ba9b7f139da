/**
 * dsctl's error classes. Each has a stable `code` (never reused) and says what failed on which
 * input. Stalling errors need a human (no retry); transient ones are retried with backoff.
 */
export abstract class DsctlError extends Error {
  abstract readonly code: `DSCTL_${string}`;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Needs a human: a bad manifest, an unknown revision. Retrying cannot help. */
export abstract class StallingError extends DsctlError {}

/** A git, Redis or driver blip: retry with backoff. */
export abstract class TransientError extends DsctlError {}

export interface FieldError {
  /** Field path as Kubernetes prints it, e.g. `spec.updateStrategy.rollingUpdate.maxSurge`. */
  field: string;
  message: string;
}

/** A DaemonSet object that the API server would refuse; `planRollout` throws it instead of guessing. */
export class InvalidDaemonSetError extends StallingError {
  readonly code = 'DSCTL_INVALID_DAEMONSET';
  constructor(
    readonly daemonSet: string,
    readonly errors: readonly FieldError[],
  ) {
    super(`DaemonSet ${daemonSet} is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  }
}
