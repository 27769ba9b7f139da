/**
 * Kubernetes' event aggregation (client-go `tools/record`, `EventAggregator`), as the DaemonSet
 * controller's recorder does it in the controller process: events of one object with the same
 * type, reason and source go out one by one until {@link AGGREGATE_AFTER} distinct messages have
 * been seen within {@link AGGREGATE_WINDOW_MS} of each other; from then on they are combined into
 * one event, "(combined from similar events): <latest message>", whose count grows.
 *
 * So a 10,000-node rollout records 9 SuccessfulDelete and 9 SuccessfulCreate events and two
 * combined ones (x9991 each), as `kubectl describe ds` shows for a big DaemonSet, instead of 20,000.
 *
 * The window lives in this process (as in client-go): each replica lets its own first events
 * through; the combined event's count is kept in Redis, so replicas add to the same one.
 */
import type { EventView } from '../domain/views.js';

/** client-go `defaultAggregateMaxEvents`. */
export const AGGREGATE_AFTER = 10;
/** client-go `defaultAggregateIntervalInSeconds`: 10 minutes. */
export const AGGREGATE_WINDOW_MS = 600_000;
/** client-go's prefix of a combined event's message. */
export const COMBINED_PREFIX = '(combined from similar events): ';

export type NewEvent = Omit<EventView, 'ts' | 'count' | 'firstTs'>;

/** Events of one aggregate key folded into one combined event. */
export interface CombinedEvents {
  type: EventView['type'];
  reason: string;
  from: string;
  /** The latest message folded (without the prefix). */
  message: string;
  count: number;
}

interface Window {
  messages: Set<string>;
  lastTs: number;
}

export class EventAggregator {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * Splits the events of one DaemonSet, in order, into those recorded one by one and those folded
   * into combined events (one per type, reason and source).
   */
  split(ds: string, events: readonly NewEvent[]): { single: NewEvent[]; combined: CombinedEvents[] } {
    const single: NewEvent[] = [];
    const combined = new Map<string, CombinedEvents>();
    const now = this.clock();
    for (const event of events) {
      const key = `${ds}\t${event.type}\t${event.reason}\t${event.from}`;
      let window = this.windows.get(key);
      if (!window || now - window.lastTs > AGGREGATE_WINDOW_MS) {
        window = { messages: new Set(), lastTs: now };
        this.windows.set(key, window);
      }
      window.lastTs = now;
      // As client-go: the message joins the window's set, which never grows past the limit.
      if (window.messages.size < AGGREGATE_AFTER) window.messages.add(event.message);
      if (window.messages.size < AGGREGATE_AFTER) {
        single.push(event);
        continue;
      }
      const folded = combined.get(key);
      if (folded) {
        folded.count++;
        folded.message = event.message;
      } else {
        combined.set(key, {
          type: event.type,
          reason: event.reason,
          from: event.from,
          message: event.message,
          count: 1,
        });
      }
    }
    if (this.windows.size > 10_000) this.prune(now);
    return { single, combined: [...combined.values()] };
  }

  /** Forgets the windows of a DaemonSet (it left Git). */
  forget(ds: string): void {
    for (const key of this.windows.keys()) if (key.startsWith(`${ds}\t`)) this.windows.delete(key);
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (now - window.lastTs > AGGREGATE_WINDOW_MS) this.windows.delete(key);
  }
}
