/**
 * Replays raw pod transitions, without trusting the planner, to check the rollout budget.
 */
import type { TimelineEntry } from './driver.js';

/** Result of {@link measureNodesDown}. */
export interface NodesDownReport {
  /** Largest number of nodes down at the same time. */
  max: number;
  /** Timestamp (epoch ms) of the transition that first reached `max`; null when no node was ever down. */
  at: number | null;
  /** The nodes down at that moment, sorted. */
  nodes: string[];
}

/**
 * Largest number of nodes of one DaemonSet that were down at once, replaying `entries` in their order.
 *
 * A node is *down* from the moment it loses its last ready pod of the DaemonSet (`deleted` or `not-ready`) until one
 * of its pods is `ready` again. A node whose pods were never ready is not counted: the first creation of a DaemonSet
 * puts pods on every node at once, outside the rolling-update budget, as Kubernetes does. Pods removed with their
 * node (`removeNode`) leave that node down until the end of the replay.
 *
 * Entries must be in timeline order (the order {@link FleetDriver.timeline} returns); entries of other DaemonSets
 * are ignored.
 */
export function measureNodesDown(entries: readonly TimelineEntry[], daemonSet: string): NodesDownReport {
  const readyPods = new Map<string, Set<string>>();
  const down = new Set<string>();
  let report: NodesDownReport = { max: 0, at: null, nodes: [] };
  for (const entry of entries) {
    if (entry.daemonSet !== daemonSet) continue;
    let pods = readyPods.get(entry.node);
    if (pods === undefined) {
      pods = new Set();
      readyPods.set(entry.node, pods);
    }
    if (entry.event === 'ready') {
      pods.add(entry.pod);
      down.delete(entry.node);
    } else if ((entry.event === 'deleted' || entry.event === 'not-ready') && pods.delete(entry.pod)) {
      if (pods.size === 0) down.add(entry.node);
    }
    if (down.size > report.max) report = { max: down.size, at: entry.ts, nodes: [...down].sort() };
  }
  return report;
}
