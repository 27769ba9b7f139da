/**
 * Errors a fleet driver throws. Each has a stable `code` that is never reused.
 *
 * TODO(lead): re-parent onto the shared `DsctlError` (style.md §6.4) once `src/errors.ts` exists; the codes stay.
 */

/** Base of every fleet error. `retryable` says whether retrying the same call can succeed. */
export abstract class FleetError extends Error {
  abstract readonly code: `DSCTL_FLEET_${string}`;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A pod was to be created on a node the fleet does not have. */
export class NodeNotFoundError extends FleetError {
  readonly code = 'DSCTL_FLEET_NODE_NOT_FOUND';
  readonly retryable = false;

  constructor(readonly node: string) {
    super(`create pod: node ${JSON.stringify(node)} not found`);
  }
}

/** A live pod of the DaemonSet already has that name (under another idempotency key). */
export class PodExistsError extends FleetError {
  readonly code = 'DSCTL_FLEET_POD_EXISTS';
  readonly retryable = false;

  constructor(
    readonly daemonSet: string,
    readonly pod: string,
  ) {
    super(`create pod: pod ${JSON.stringify(pod)} of ${daemonSet} already exists`);
  }
}

/** An argument is malformed (empty name, whitespace in a name, bad DaemonSet key, …). */
export class FleetInputError extends FleetError {
  readonly code = 'DSCTL_FLEET_INVALID_INPUT';
  readonly retryable = false;
}

/** The fleet store answered something the driver does not understand (version skew, foreign keys). */
export class FleetStateError extends FleetError {
  readonly code = 'DSCTL_FLEET_STATE_INVALID';
  readonly retryable = false;
}
