/**
 * Turns the reconcile requests of node jobs finishing by the thousand into few reconciles: at
 * most one pending request per DaemonSet in this replica, fired at the trailing edge of a window
 * (so the last finish is never lost; a replica killed in between leaves it to the poll).
 *
 * - `now` (maybe the last update): fires after {@link DEBOUNCE_MS}.
 * - `soon` (nodes wait for budget): fires after twice the last reconcile's cost, between
 *   {@link DEBOUNCE_MS} and {@link DEBOUNCE_MAX_MS}, so a 10,000-node plan is not redone per node.
 * - `refresh` (only the status is stale): at most once per {@link STATUS_REFRESH_MS} or ten times
 *   the last reconcile's cost, whichever is longer; dropped when a reconcile of the DaemonSet ended
 *   after it was made or is running when it fires, since that reconcile writes the status.
 *
 * A more urgent request shortens the pending window instead of waiting behind it.
 */

/** `now`: the rollout may be done; `soon`: nodes wait for budget; `refresh`: only the status is stale. */
export type ReconcileUrgency = 'now' | 'soon' | 'refresh';

export const DEBOUNCE_MS = 15;
export const DEBOUNCE_MAX_MS = 1000;
export const STATUS_REFRESH_MS = 1000;

interface PendingRequest {
  timer: NodeJS.Timeout;
  /** performance.now() it fires at. */
  dueAt: number;
  /** performance.now() of the first request it stands for. */
  requestedAt: number;
  /** Every request it stands for only wanted a fresher status. */
  refreshOnly: boolean;
}

export class ReconcileDebouncer {
  private readonly pending = new Map<string, PendingRequest>();
  /** Milliseconds the last reconcile of each DaemonSet took. */
  private readonly cost = new Map<string, number>();
  private readonly lastRefresh = new Map<string, number>();
  /** performance.now() at the end of the last reconcile of each DaemonSet. */
  private readonly lastReconciledAt = new Map<string, number>();
  /** Reconciles of each DaemonSet running in this replica. */
  private readonly running = new Map<string, number>();

  /** @param fire asks for the reconcile (BullMQ deduplicates it across replicas). */
  constructor(private readonly fire: (daemonSet: string, reason: string) => void) {}

  request(daemonSet: string, reason: string, urgency: ReconcileUrgency): void {
    const now = performance.now();
    const pending = this.pending.get(daemonSet);
    const cost = this.cost.get(daemonSet) ?? 0;
    if (urgency === 'refresh') {
      // Refreshing costs a whole reconcile: with big fleets, refresh less often (10× its cost).
      const interval = Math.max(STATUS_REFRESH_MS, 10 * cost);
      if (pending || now - (this.lastRefresh.get(daemonSet) ?? -Infinity) < interval) return;
      this.lastRefresh.set(daemonSet, now);
    }
    const delay = urgency === 'now' ? DEBOUNCE_MS : Math.min(DEBOUNCE_MAX_MS, Math.max(DEBOUNCE_MS, 2 * cost));
    if (pending) {
      if (urgency !== 'refresh') pending.refreshOnly = false;
      if (pending.dueAt <= now + delay) return;
      clearTimeout(pending.timer); // this request is more urgent: fire earlier
    }
    const request: PendingRequest = {
      refreshOnly: urgency === 'refresh' && (pending?.refreshOnly ?? true),
      requestedAt: pending?.requestedAt ?? now,
      dueAt: now + delay,
      timer: setTimeout(() => {
        this.pending.delete(daemonSet);
        // Only the status was stale, and a reconcile has written it since or is about to: nothing left to do.
        if (
          request.refreshOnly &&
          ((this.running.get(daemonSet) ?? 0) > 0 ||
            (this.lastReconciledAt.get(daemonSet) ?? -Infinity) > request.requestedAt)
        ) {
          return;
        }
        this.fire(daemonSet, reason);
      }, delay),
    };
    this.pending.set(daemonSet, request);
  }

  /**
   * Runs one reconcile of `daemonSet` and notes it: while it runs, and once it has written the
   * status, refresh-only requests are not needed. Its duration sets the windows' size unless it
   * did not get to plan (`planned` false: another replica holds the planning lock).
   */
  async around<T>(daemonSet: string, reconcile: () => Promise<T>, planned: (result: T) => boolean): Promise<T> {
    const started = performance.now();
    this.running.set(daemonSet, (this.running.get(daemonSet) ?? 0) + 1);
    try {
      const result = await reconcile();
      if (planned(result)) this.reconciled(daemonSet, performance.now() - started);
      return result;
    } finally {
      const left = (this.running.get(daemonSet) ?? 1) - 1;
      if (left > 0) this.running.set(daemonSet, left);
      else this.running.delete(daemonSet);
    }
  }

  /** A reconcile of `daemonSet` ended after `ms`: it wrote the status, and sets the windows' size. */
  reconciled(daemonSet: string, ms: number): void {
    const now = performance.now();
    this.cost.set(daemonSet, ms);
    this.lastRefresh.set(daemonSet, now);
    this.lastReconciledAt.set(daemonSet, now);
  }

  close(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}
