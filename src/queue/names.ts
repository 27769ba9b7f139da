/** Queue names and deterministic job ids. BullMQ refuses `:` in custom ids, so `|` separates parts. */
export const QUEUE_GIT_SYNC = 'git-sync';
export const QUEUE_RECONCILE = 'reconcile';
export const QUEUE_NODE_UPDATE = 'node-update';

export const JOB_SYNC = 'sync';
export const JOB_RECONCILE = 'reconcile';
export const JOB_UPDATE_NODE = 'update-node';
export const SCHEDULER_POLL = 'poll';

/** One job per DaemonSet, revision and node: enqueueing the same update twice is a no-op. */
export function nodeJobId(daemonSet: string, revision: string, node: string): string {
  return `${daemonSet}|${revision}|${node}`;
}

export function reconcileDedupId(daemonSet: string): string {
  return `reconcile|${daemonSet}`;
}

export const SYNC_DEDUP_ID = 'sync';
