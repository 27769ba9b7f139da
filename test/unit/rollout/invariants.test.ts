/**
 * Property tests for `planRollout`: random fleets from a seeded PRNG, checked against invariants
 * that the Kubernetes DaemonSet controller guarantees (pkg/controller/daemon/update.go
 * `rollingUpdate` "Invariants" comments, `podsShouldBeOnNode`, `updateDaemonSetStatus`), in the
 * one-sync sense of daemonset-semantics.md §6.1 (manage, then the rolling update on its result).
 *
 * Two kinds of fleets:
 * - plain: every listed node is eligible (no taints, no selectors, all ready), so every listed
 *   node is desired and may keep its pod; used for the budget and "never delete the current
 *   revision" invariants, which are only exact there;
 * - broad: random labels, taints, not-ready and cordoned nodes, selectors, affinity,
 *   tolerations, pods on removed nodes, terminal and terminating pods; used for "never throws"
 *   and the status/plan consistency invariants.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DaemonSet } from '../../../src/domain/kubernetes.js';
import type { NodeInput, PlanResult, PodInput } from '../../../src/domain/plan.js';
import { templateHash } from '../../../src/revision/hash.js';
import { planRollout } from '../../../src/rollout/plan.js';
import { prng } from '../../helpers/random.js';

const CASES = 300;
const NOW = 10_000_000;

interface Rand {
  (): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

function rand(seed: number): Rand {
  const next = prng(seed);
  const r = (() => next()) as Rand;
  r.int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  r.pick = (items) => items[Math.floor(next() * items.length)]!;
  r.chance = (p) => next() < p;
  return r;
}

type IntOrPercent = number | string;

interface Fleet {
  daemonSet: DaemonSet;
  nodes: NodeInput[];
  pods: PodInput[];
  now: number;
  maxUnavailable: IntOrPercent;
  maxSurge: IntOrPercent;
  minReadySeconds: number;
  hash: string;
}

const TEMPLATE_LABELS = { app: 'ds' };

function daemonSet(
  strategy: NonNullable<DaemonSet['spec']>['updateStrategy'],
  minReadySeconds: number,
  podSpecExtra: Record<string, unknown> = {},
  image = 'img:new',
): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ds', namespace: 'default' },
    spec: {
      selector: { matchLabels: { ...TEMPLATE_LABELS } },
      updateStrategy: strategy,
      minReadySeconds,
      template: {
        metadata: { labels: { ...TEMPLATE_LABELS } },
        spec: { containers: [{ name: 'app', image }], ...podSpecExtra },
      },
    },
  } as DaemonSet;
}

function nodeNames(r: Rand, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`node-${r.int(1, 40)}`);
  return [...names];
}

const PERCENTS = ['1%', '10%', '25%', '33%', '34%', '50%', '75%', '100%'];

function randomBudget(r: Rand, surge: boolean): { maxUnavailable: IntOrPercent; maxSurge: IntOrPercent } {
  const value = (): IntOrPercent => (r.chance(0.5) ? r.int(1, 5) : r.pick(PERCENTS));
  return surge ? { maxUnavailable: r.pick([0, '0%']), maxSurge: value() } : { maxUnavailable: value(), maxSurge: 0 };
}

function randomPod(r: Rand, name: string, node: string, hash: string, now: number, broad: boolean): PodInput {
  const pod: PodInput = {
    name,
    node,
    revision: r.chance(0.45) ? hash : r.pick(['rev-old', 'rev-older']),
    createdAt: r.int(0, 5) * 1000,
  };
  if (r.chance(0.65)) {
    pod.ready = true;
    if (r.chance(0.9)) pod.readySince = now - r.pick([0, 1000, 4999, 5000, 20_000, 60_000]);
  }
  if (broad) {
    const phase = r();
    if (phase < 0.07) pod.phase = 'Failed';
    else if (phase < 0.1) pod.phase = 'Succeeded';
    else if (phase < 0.15) pod.phase = 'Pending';
    if (pod.phase && pod.phase !== 'Running') pod.ready = false;
  }
  if (r.chance(broad ? 0.1 : 0.05)) pod.deleting = true;
  return pod;
}

/** Every listed node eligible and ready; old/new, ready/unready, duplicate and terminating pods. */
function plainFleet(seed: number, surge: boolean): Fleet {
  const r = rand(seed);
  const { maxUnavailable, maxSurge } = randomBudget(r, surge);
  const minReadySeconds = r.pick([0, 0, 5, 30]);
  const ds = daemonSet({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } }, minReadySeconds);
  const hash = templateHash(ds.spec!.template);
  const nodes = nodeNames(r, r.int(1, 12)).map((name) => ({ name }));
  const pods: PodInput[] = [];
  for (const node of nodes) {
    const count = r.pick([0, 1, 1, 1, 1, 2]);
    for (let i = 0; i < count; i++) pods.push(randomPod(r, `pod-${pods.length}`, node.name, hash, NOW, false));
  }
  return { daemonSet: ds, nodes, pods, now: NOW, maxUnavailable, maxSurge, minReadySeconds, hash };
}

const TAINT_KEYS = ['dedicated', 'gpu', 'node.kubernetes.io/network-unavailable', 'node.kubernetes.io/not-ready'];

/** Anything valid: eligibility, strategies, phases, pods on removed nodes. */
function broadFleet(seed: number): Fleet {
  const r = rand(seed);
  const kind = r();
  const budget = randomBudget(r, kind > 0.6);
  const minReadySeconds = r.pick([0, 0, 5, 30]);
  const strategy =
    kind < 0.15
      ? { type: 'OnDelete' as const }
      : kind < 0.2
        ? { type: 'RollingUpdate' as const }
        : { type: 'RollingUpdate' as const, rollingUpdate: { ...budget } };
  const podSpec: Record<string, unknown> = {};
  if (r.chance(0.25)) podSpec.nodeSelector = { zone: r.pick(['a', 'b']) };
  if (r.chance(0.15)) {
    podSpec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'rank', operator: r.pick(['Gt', 'Lt']), values: [String(r.int(1, 9))] }] },
          ],
        },
      },
    };
  }
  if (r.chance(0.3)) {
    podSpec.tolerations = [
      r.pick([
        { operator: 'Exists' },
        { key: 'dedicated', operator: 'Exists' },
        { key: 'gpu', value: 'yes', effect: 'NoSchedule' },
      ]),
    ];
  }
  if (r.chance(0.15)) podSpec.hostNetwork = true;
  const ds = daemonSet(strategy, minReadySeconds, podSpec);
  const hash = templateHash(ds.spec!.template);
  const nodes: NodeInput[] = nodeNames(r, r.int(0, 12)).map((name) => {
    const node: NodeInput = { name };
    if (r.chance(0.6)) node.labels = { zone: r.pick(['a', 'b']), rank: String(r.int(1, 9)) };
    if (r.chance(0.3)) {
      node.taints = [
        {
          key: r.pick(TAINT_KEYS),
          effect: r.pick(['NoSchedule', 'NoExecute', 'PreferNoSchedule']),
          ...(r.chance(0.5) ? { value: 'yes' } : {}),
        },
      ];
    }
    if (r.chance(0.15)) node.ready = false;
    if (r.chance(0.1)) node.unschedulable = true;
    return node;
  });
  const pods: PodInput[] = [];
  for (const name of [...nodes.map((n) => n.name), 'node-gone']) {
    const count = name === 'node-gone' ? r.pick([0, 0, 1]) : r.pick([0, 1, 1, 1, 2, 3]);
    for (let i = 0; i < count; i++) pods.push(randomPod(r, `pod-${pods.length}`, name, hash, NOW, true));
  }
  return { daemonSet: ds, nodes, pods, now: NOW, ...budget, minReadySeconds, hash };
}

function scaled(value: IntOrPercent, total: number): number {
  if (typeof value === 'number') return value;
  return Math.ceil((Number(value.slice(0, -1)) * total) / 100);
}

function available(pod: PodInput, minReadySeconds: number, now: number): boolean {
  if (pod.ready !== true) return false;
  if (minReadySeconds === 0) return true;
  return pod.readySince !== undefined && pod.readySince + minReadySeconds * 1000 <= now;
}

const terminal = (p: PodInput) => p.phase === 'Failed' || p.phase === 'Succeeded';
const live = (p: PodInput) => !p.deleting && !terminal(p);

/** The pods after a plan, as the fake pod control of the Kubernetes unit tests would leave them. */
function applyPlan(pods: PodInput[], plan: PlanResult, now: number, counter: { n: number }): PodInput[] {
  const gone = new Set(plan.delete.map((d) => d.pod));
  const next = pods.filter((p) => !gone.has(p.name));
  for (const c of plan.create) {
    next.push({ name: `new-${counter.n++}`, node: c.node, revision: c.revision, ready: false, createdAt: now });
  }
  return next;
}

/**
 * Unavailable nodes as `rollingUpdate` (maxSurge = 0) counts them: a node is available only when
 * its non-deleting pods are exactly one pod and that pod is available. Counted over the listed
 * nodes, which are all desired in a plain fleet.
 */
function unavailableNodes(nodes: NodeInput[], pods: PodInput[], minReadySeconds: number, now: number): number {
  let count = 0;
  for (const node of nodes) {
    const here = pods.filter((p) => p.node === node.name && !p.deleting);
    if (!(here.length === 1 && available(here[0]!, minReadySeconds, now))) count++;
  }
  return count;
}

function oldestLive(pods: PodInput[], node: string): PodInput | undefined {
  const here = pods
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.node === node && live(p))
    .sort((a, b) => (a.p.createdAt ?? 0) - (b.p.createdAt ?? 0) || a.i - b.i);
  return here[0]?.p;
}

function plan(f: Fleet, pods = f.pods, now = f.now): PlanResult {
  return planRollout({ daemonSet: structuredClone(f.daemonSet), nodes: structuredClone(f.nodes), pods, now });
}

/**
 * maxSurge = 0: an available old pod is deleted by the rolling update only if, after the step,
 * no more than maxUnavailable desired nodes are unavailable (the deleted pod's node counts as
 * unavailable). Kubernetes update.go: "The number of new pods that are unavailable must be less
 * than maxUnavailable"; "A node with an available old pod is a candidate for deletion if it does
 * not violate other invariants".
 */
function checkBudget(
  f: Fleet,
  pods: PodInput[],
  now: number,
  result: PlanResult,
  after: PodInput[],
  where: string,
): 'unchecked' | 'within' | 'at-budget' {
  const desired = f.nodes.length;
  let maxUnavailable = scaled(f.maxUnavailable, desired);
  if (desired > 0 && maxUnavailable === 0 && scaled(f.maxSurge, desired) === 0) maxUnavailable = 1;
  const byName = new Map(pods.map((p) => [p.name, p]));
  const availableOldDeleted = result.delete.filter((d) => {
    const pod = byName.get(d.pod)!;
    if (pod.revision === f.hash || !available(pod, f.minReadySeconds, now) || !live(pod)) return false;
    // The only live pod of its node: manage would never delete it, so only the rolling update did.
    const soleLive = pods.filter((p) => p.node === pod.node && live(p)).length === 1;
    return soleLive || d.reason === 'RollingUpdate';
  });
  if (availableOldDeleted.length === 0) return 'unchecked';
  const unavailable = unavailableNodes(f.nodes, after, f.minReadySeconds, now);
  assert.ok(
    unavailable <= maxUnavailable,
    `${where}: deleted available old pods ${availableOldDeleted.map((d) => d.pod).join(',')} leaving ` +
      `${unavailable} unavailable nodes > maxUnavailable ${maxUnavailable} (${String(f.maxUnavailable)} of ${desired})`,
  );
  return unavailable === maxUnavailable ? 'at-budget' : 'within';
}

/** A live pod of the current revision that is the oldest live pod of its node is never deleted. */
function checkCurrentKept(f: Fleet, pods: PodInput[], result: PlanResult, where: string) {
  const deleted = new Set(result.delete.map((d) => d.pod));
  for (const node of f.nodes) {
    const oldest = oldestLive(pods, node.name);
    if (oldest && oldest.revision === f.hash) {
      assert.ok(
        !deleted.has(oldest.name),
        `${where}: deleted ${oldest.name}, the oldest pod of ${node.name} and current`,
      );
    }
  }
  for (const d of result.delete) {
    const pod = pods.find((p) => p.name === d.pod)!;
    if (pod.revision === f.hash && (pod.ready === true || available(pod, f.minReadySeconds, f.now))) {
      // Only manage may remove a current ready pod, and only as an extra pod next to an older one
      // (or a pod that must leave its node); the rolling update only ever deletes old pods.
      assert.notEqual(d.reason, 'RollingUpdate', `${where}: rolling update deleted current pod ${d.pod}`);
    }
  }
}

function checkConsistency(f: Fleet, result: PlanResult, where: string) {
  const s = result.status;
  const listed = new Set(f.nodes.map((n) => n.name));
  for (const [k, v] of Object.entries(s)) assert.ok(Number.isInteger(v) && v >= 0, `${where}: status.${k} = ${v}`);
  assert.equal(s.numberUnavailable, s.desiredNumberScheduled - s.numberAvailable, `${where}: numberUnavailable`);
  assert.ok(s.desiredNumberScheduled <= listed.size, `${where}: desired > listed nodes`);
  assert.ok(s.currentNumberScheduled <= s.desiredNumberScheduled, `${where}: current > desired`);
  assert.ok(s.updatedNumberScheduled <= s.currentNumberScheduled, `${where}: updated > current`);
  assert.ok(s.numberReady <= s.currentNumberScheduled, `${where}: ready > current`);
  assert.ok(s.numberAvailable <= s.numberReady, `${where}: available > ready`);
  assert.ok(s.desiredNumberScheduled + s.numberMisscheduled <= listed.size, `${where}: desired + misscheduled > nodes`);

  if (f.minReadySeconds === 0) assert.equal(result.requeueAfterMs, null, `${where}: requeue without minReadySeconds`);
  else if (result.requeueAfterMs !== null) {
    assert.ok(
      result.requeueAfterMs > 0 && result.requeueAfterMs <= f.minReadySeconds * 1000,
      `${where}: requeueAfterMs ${result.requeueAfterMs}`,
    );
  }

  const createdOn = new Set<string>();
  for (const c of result.create) {
    assert.ok(listed.has(c.node), `${where}: create on unlisted node ${c.node}`);
    assert.ok(!createdOn.has(c.node), `${where}: two creates on ${c.node}`);
    assert.equal(c.revision, f.hash, `${where}: create of another revision`);
    createdOn.add(c.node);
  }
  const byName = new Map(f.pods.map((p) => [p.name, p]));
  const deleted = new Set<string>();
  for (const d of result.delete) {
    const pod = byName.get(d.pod);
    assert.ok(pod, `${where}: delete of unknown pod ${d.pod}`);
    assert.equal(d.node, pod.node, `${where}: delete node mismatch`);
    assert.ok(!pod.deleting, `${where}: deletes ${d.pod} again although it is terminating`);
    assert.ok(!deleted.has(d.pod), `${where}: deletes ${d.pod} twice`);
    deleted.add(d.pod);
  }
  // Every live pod on a node that is not listed goes (dsctl rule D4).
  for (const p of f.pods)
    if (!listed.has(p.node) && !p.deleting) assert.ok(deleted.has(p.name), `${where}: orphan ${p.name} kept`);
}

describe('planRollout invariants (random fleets)', () => {
  test(`maxSurge 0: available old pods are deleted only within maxUnavailable (${CASES} fleets)`, () => {
    const seen = { unchecked: 0, within: 0, 'at-budget': 0 };
    for (let seed = 1; seed <= CASES; seed++) {
      const f = plainFleet(seed, false);
      const result = plan(f);
      seen[checkBudget(f, f.pods, f.now, result, applyPlan(f.pods, result, f.now, { n: 0 }), `seed ${seed}`)]++;
    }
    // The random fleets must actually exercise the rule, including fleets where the budget is hit exactly.
    assert.ok(seen['at-budget'] >= CASES / 10, `too few fleets reach the budget: ${JSON.stringify(seen)}`);
  });

  test(`the current revision's oldest pod on a node is never deleted (${CASES} fleets, with and without surge)`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      for (const surge of [false, true]) {
        const f = plainFleet(seed * 7 + (surge ? 1 : 0), surge);
        checkCurrentKept(f, f.pods, plan(f), `seed ${seed} surge ${surge}`);
      }
    }
  });

  test(`planRollout never throws on valid input, and its plan and status are consistent (${CASES} fleets)`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const f = broadFleet(seed);
      let result: PlanResult | undefined;
      assert.doesNotThrow(() => {
        result = plan(f);
      }, `seed ${seed}`);
      checkConsistency(f, result!, `seed ${seed}`);
    }
  });

  test('plain fleets: every listed node is desired, nothing is misscheduled', () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const f = plainFleet(seed, seed % 2 === 0);
      const result = plan(f);
      checkConsistency(f, result, `seed ${seed}`);
      assert.equal(result.status.desiredNumberScheduled, f.nodes.length, `seed ${seed}`);
      assert.equal(result.status.numberMisscheduled, 0, `seed ${seed}`);
    }
  });

  test(`a rollout whose new pods become ready completes, within the budget at every step (${CASES} fleets)`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const f = plainFleet(seed * 13, seed % 3 === 0);
      const counter = { n: 0 };
      let pods = f.pods.filter((p) => !p.deleting);
      let now = f.now;
      const limit = 3 * f.nodes.length + 6;
      let done = false;
      for (let step = 0; step < limit && !done; step++) {
        const where = `seed ${seed} step ${step}`;
        const result = plan(f, pods, now);
        const after = applyPlan(pods, result, now, counter);
        if (scaled(f.maxSurge, f.nodes.length) === 0) checkBudget(f, pods, now, result, after, where);
        checkCurrentKept(f, pods, result, where);
        for (const node of f.nodes) {
          assert.ok(
            after.filter((p) => p.node === node.name).length <= 2,
            `${where}: more than two pods on ${node.name}`,
          );
        }
        done =
          result.create.length === 0 &&
          result.delete.length === 0 &&
          f.nodes.every((n) => {
            const here = pods.filter((p) => p.node === n.name);
            return here.length === 1 && here[0]!.revision === f.hash && available(here[0]!, f.minReadySeconds, now);
          });
        // Every pod turns ready now (a Failed or Pending pod is repaired by the kubelet), and
        // minReadySeconds pass before the next sync.
        pods = after.map((p) => ({
          ...p,
          phase: 'Running' as const,
          ready: true,
          readySince: p.ready === true && p.readySince !== undefined ? p.readySince : now,
        }));
        now += f.minReadySeconds * 1000;
      }
      assert.ok(done, `seed ${seed}: rollout did not complete in ${limit} steps`);
    }
  });
});
