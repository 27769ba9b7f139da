/**
 * Shared checks of the reliability suite (issue 7): what every drill asserts once it is over.
 *
 * - no crash: the worker still answers `/healthz`;
 * - no pod lost that should run: every eligible node ends with exactly one live, ready pod of the
 *   DaemonSet's update revision;
 * - the budget held: {@link measureNodesDown} over the raw pod transitions ≤ maxUnavailable, and
 *   with surge, {@link measureSurge} ≤ maxSurge;
 * - no node got two pods of one revision (`created` timeline events per node and revision).
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { DaemonSetView, HistoryEntry } from '../../src/domain/views.js';
import type { FleetPod, TimelineEntry } from '../../src/fleet/driver.js';
import { measureNodesDown } from '../../src/fleet/timeline-analysis.js';
import { getDaemonSet, getJson, isRolledOut, sleep, timeline, waitFor } from '../helpers/worker.js';

/** `GET /healthz` answers 200 (within 2 s). */
export async function assertServing(server: string): Promise<void> {
  const res = await fetch(`${server}/healthz`, { signal: AbortSignal.timeout(2000) });
  assert.equal(res.status, 200, `${server}/healthz answered ${res.status}`);
}

/** Waits until the DaemonSet is rolled out at `revision` (number), returns its view. */
export function waitRolledOut(
  server: string | (() => string),
  ns: string,
  name: string,
  revision: number,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<DaemonSetView> {
  const url = typeof server === 'string' ? () => server : server;
  return waitFor(
    `${ns}/${name} rolled out at revision ${revision}`,
    async () => {
      const v = await getDaemonSet(url(), ns, name);
      return isRolledOut(v, revision) && v;
    },
    timeoutMs,
    intervalMs,
  );
}

export function pods(server: string, daemonSet: string): Promise<FleetPod[]> {
  return getJson<FleetPod[]>(`${server}/api/v1/pods?daemonSet=${encodeURIComponent(daemonSet)}`);
}

export function nodeNames(server: string): Promise<string[]> {
  return getJson<{ name: string }[]>(`${server}/api/v1/nodes`).then((n) => n.map((x) => x.name).sort());
}

export function history(server: string, ns: string, name: string): Promise<HistoryEntry[]> {
  return getJson<HistoryEntry[]>(`${server}/api/v1/namespaces/${ns}/daemonsets/${name}/history`);
}

/**
 * Every node of the fleet has exactly one live pod of `daemonSet`, ready, of `revision` (hash).
 * Retries for a short while: the status can say "rolled out" a moment before a surge's old pod is gone.
 */
export async function assertEveryNodeRuns(
  server: string,
  daemonSet: string,
  revision: string,
  timeoutMs = 5000,
): Promise<void> {
  const nodes = await nodeNames(server);
  const deadline = Date.now() + timeoutMs;
  let problems: string[];
  for (;;) {
    const live = (await pods(server, daemonSet)).filter((p) => !p.deleting);
    problems = [];
    for (const node of nodes) {
      const here = live.filter((p) => p.node === node);
      if (here.length !== 1) problems.push(`${node}: ${here.length} live pods (${here.map((p) => p.revision)})`);
      else if (here[0]!.revision !== revision) problems.push(`${node}: revision ${here[0]!.revision}`);
      else if (!here[0]!.ready) problems.push(`${node}: pod ${here[0]!.name} not ready`);
    }
    const strays = live.filter((p) => !nodes.includes(p.node));
    for (const p of strays) problems.push(`pod ${p.name} on unknown node ${p.node}`);
    if (problems.length === 0 || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.deepEqual(problems, [], `${daemonSet}: not every node runs one available pod of ${revision}`);
}

/** `created` events per `node@revision` of one DaemonSet; only the keys seen more than once. */
export function createdTwice(entries: readonly TimelineEntry[], daemonSet: string): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (e.daemonSet !== daemonSet || e.event !== 'created') continue;
    const key = `${e.node}@${e.revision}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1);
}

/** Pods of one DaemonSet deleted in the timeline (optionally only after `sinceTs`). */
export function deletedPods(entries: readonly TimelineEntry[], daemonSet: string, sinceTs = 0): TimelineEntry[] {
  return entries.filter((e) => e.daemonSet === daemonSet && e.event === 'deleted' && e.ts >= sinceTs);
}

/**
 * Largest number of nodes using the surge at once, replaying the raw transitions with Kubernetes'
 * meaning of maxSurge ("nodes with an available pod that can have an updated pod"): a node
 * surges while it holds two or more live pods of the DaemonSet and one of them is not ready (the
 * new pod still starting). A node whose new pod is ready and whose old pod is being deleted no
 * longer counts: like Kubernetes' controller, the worker may start the next node's new pod in the
 * same step that deletes that old pod.
 */
export function measureSurge(entries: readonly TimelineEntry[], daemonSet: string): { max: number; nodes: string[] } {
  const live = new Map<string, Map<string, boolean>>();
  const surging = new Set<string>();
  let best = { max: 0, nodes: [] as string[] };
  for (const e of entries) {
    if (e.daemonSet !== daemonSet) continue;
    let pods = live.get(e.node);
    if (!pods) live.set(e.node, (pods = new Map()));
    if (e.event === 'created') pods.set(e.pod, false);
    else if (e.event === 'deleted') pods.delete(e.pod);
    else if (pods.has(e.pod)) pods.set(e.pod, e.event === 'ready');
    if (pods.size >= 2 && [...pods.values()].some((ready) => !ready)) surging.add(e.node);
    else surging.delete(e.node);
    if (surging.size > best.max) best = { max: surging.size, nodes: [...surging].sort() };
  }
  return best;
}

/**
 * Like {@link measureNodesDown}, with Kubernetes' meaning of *available*: a pod counts only once
 * it has been ready for `minReadyMs`. A node is unavailable from the moment it loses its last
 * available pod until one of its pods has been ready for `minReadyMs` again; nodes that never had
 * an available pod are not counted (the initial creation is outside the budget).
 */
export function measureUnavailable(
  entries: readonly TimelineEntry[],
  daemonSet: string,
  minReadyMs: number,
): { max: number; nodes: string[] } {
  type Step = { ts: number; order: number; kind: string; node: string; pod: string; gen: number };
  const steps: Step[] = [];
  const gens = new Map<string, number>();
  entries.forEach((e, i) => {
    if (e.daemonSet !== daemonSet) return;
    let gen = gens.get(e.pod) ?? 0;
    if (e.event === 'ready') gens.set(e.pod, ++gen);
    steps.push({ ts: e.ts, order: i, kind: e.event, node: e.node, pod: e.pod, gen });
    if (e.event === 'ready') {
      steps.push({ ts: e.ts + minReadyMs, order: i + 0.5, kind: 'available', node: e.node, pod: e.pod, gen });
    }
  });
  steps.sort((a, b) => a.ts - b.ts || a.order - b.order);
  const readyGen = new Map<string, number>();
  const available = new Map<string, Set<string>>();
  const down = new Set<string>();
  let best = { max: 0, nodes: [] as string[] };
  for (const s of steps) {
    let set = available.get(s.node);
    if (!set) available.set(s.node, (set = new Set()));
    if (s.kind === 'ready') readyGen.set(s.pod, s.gen);
    else if (s.kind === 'available') {
      if (readyGen.get(s.pod) !== s.gen) continue;
      set.add(s.pod);
      down.delete(s.node);
    } else if (s.kind === 'not-ready' || s.kind === 'deleted') {
      readyGen.delete(s.pod);
      if (set.delete(s.pod) && set.size === 0) down.add(s.node);
    }
    if (down.size > best.max) best = { max: down.size, nodes: [...down].sort() };
  }
  return best;
}

/** The four checks of a finished drill, for one DaemonSet. */
export async function assertDrillOutcome(
  server: string,
  daemonSet: string,
  opts: { maxUnavailable: number; maxSurge?: number },
): Promise<{ down: number; surge: number; entries: TimelineEntry[] }> {
  await assertServing(server);
  const [ns, name] = daemonSet.split('/') as [string, string];
  const view = await getDaemonSet(server, ns, name);
  assert.ok(view, `${daemonSet} is gone from the API`);
  await assertEveryNodeRuns(server, daemonSet, view.status.updateRevision);
  const entries = await timeline(server);
  const down = measureNodesDown(entries, daemonSet);
  assert.ok(
    down.max <= opts.maxUnavailable,
    `${daemonSet}: ${down.max} nodes down at once (maxUnavailable ${opts.maxUnavailable}): ${down.nodes.join(',')}`,
  );
  const surge = measureSurge(entries, daemonSet);
  if (opts.maxSurge !== undefined) {
    assert.ok(
      surge.max <= opts.maxSurge,
      `${daemonSet}: ${surge.max} nodes with two pods at once (maxSurge ${opts.maxSurge}): ${surge.nodes.join(',')}`,
    );
  }
  assert.deepEqual(createdTwice(entries, daemonSet), [], `${daemonSet}: nodes given two pods of one revision`);
  return { down: down.max, surge: surge.max, entries };
}

/** Escapes Redis glob characters. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\^]/g, (c) => `\\${c}`);
}

/** Every key of the worker's `{prefix}`, sorted. */
export async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  let rounds = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${escapeGlob(prefix)}}*`, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
    if (++rounds > 100_000) throw new Error('SCAN did not finish');
  } while (cursor !== '0');
  return out.sort();
}

// Deletes, atomically, every key matching ARGV[1] that does not start with ARGV[2].
const WIPE = `
local n = 0
for _, k in ipairs(redis.call('KEYS', ARGV[1])) do
  if string.sub(k, 1, #ARGV[2]) ~= ARGV[2] then redis.call('DEL', k) n = n + 1 end
end
return n`;

/**
 * The "Redis wiped" drill: deletes, in one atomic step (as a Redis that lost its data would),
 * every key of `{prefix}` except the simulated fleet's (`{prefix}:fleet:*`, which stands in for
 * real machines). Returns how many keys were deleted.
 */
export async function wipeAllButFleet(redis: Redis, prefix: string): Promise<number> {
  return (await redis.eval(WIPE, 0, `{${escapeGlob(prefix)}}*`, `{${prefix}}:fleet:`)) as number;
}

/** Condition of a type on a DaemonSet view. */
export function condition(view: DaemonSetView | undefined, type: string) {
  return view?.status.conditions.find((c) => c.type === type);
}
