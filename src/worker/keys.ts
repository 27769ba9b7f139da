/**
 * Every Redis key the worker owns, under one Cluster hash tag `{prefix}` so all of them (and
 * BullMQ's, which use the same tagged prefix) live in one slot.
 */
export function hashTag(prefix: string): string {
  return `{${prefix}}`;
}

export interface WorkerKeys {
  /** BullMQ `prefix` option. */
  bullPrefix: string;
  inflight(ds: string): string;
  status(ds: string): string;
  events(ds: string): string;
  /** Combined events (see event-aggregator.ts), one hash field per type, reason and source. */
  eventAggregates(ds: string): string;
  paused(ds: string): string;
  durations(ds: string): string;
  waiting(ds: string): string;
  planLock(ds: string): string;
  gitLock: string;
  deliveries: string;
  /** BullMQ's hash of one job, for existence checks. */
  bullJob(queue: string, jobId: string): string;
}

export function workerKeys(prefix: string): WorkerKeys {
  const tag = hashTag(prefix);
  return {
    bullPrefix: tag,
    inflight: (ds) => `${tag}:rollout:${ds}:inflight`,
    status: (ds) => `${tag}:rollout:${ds}:status`,
    events: (ds) => `${tag}:rollout:${ds}:events`,
    eventAggregates: (ds) => `${tag}:rollout:${ds}:event-aggregates`,
    paused: (ds) => `${tag}:rollout:${ds}:paused`,
    durations: (ds) => `${tag}:rollout:${ds}:durations`,
    waiting: (ds) => `${tag}:rollout:${ds}:waiting`,
    planLock: (ds) => `${tag}:lock:plan:${ds}`,
    gitLock: `${tag}:lock:git`,
    deliveries: `${tag}:webhook:deliveries`,
    bullJob: (queue, jobId) => `${tag}:${queue}:${jobId}`,
  };
}
