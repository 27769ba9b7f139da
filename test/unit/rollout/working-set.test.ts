import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toWorkingPod, type WorkingPod } from '../../../src/rollout/pod-state.js';
import { WorkingSet } from '../../../src/rollout/working-set.js';

const pod = (
  name: string,
  node: string,
  createdAt: number,
  extra: Partial<WorkingPod> = {},
  order = 0,
): WorkingPod => ({
  ...toWorkingPod({ name, node, revision: 'old', createdAt, ready: true }, order),
  ...extra,
});

/** The grouping a fresh working set makes of the same pods: what the kept one must equal. */
function rebuilt(work: WorkingSet): Map<string, string[]> {
  const fresh = new WorkingSet([...work.all()]);
  return new Map([...fresh.podsByNode()].map(([node, pods]) => [node, pods.map((p) => p.name)]));
}
const names = (work: WorkingSet) =>
  new Map([...work.podsByNode()].map(([node, pods]) => [node, pods.map((p) => p.name)]));

test('the pods-by-node grouping kept across phases equals one rebuilt from scratch', () => {
  const a1 = pod('a1', 'a', 10, {}, 0);
  const a2 = pod('a2', 'a', 5, {}, 1);
  const b1 = pod('b1', 'b', 7, {}, 2);
  const c1 = pod('c1', 'c', 3, { deleting: true, phase: 'Failed' }, 3);
  const work = new WorkingSet([a1, a2, b1, c1]);
  assert.deepEqual(
    names(work),
    new Map([
      ['a', ['a2', 'a1']],
      ['b', ['b1']],
    ]),
    'oldest first; deleted terminal pods left out',
  );

  // Phase 1: b's only pod goes (b leaves the map), a gets a new pod, d gets its first.
  work.apply({ create: ['a', 'd'], delete: [{ pod: b1, reason: 'RollingUpdate' }] }, 'new', 20);
  assert.deepEqual(names(work), rebuilt(work));
  assert.equal(work.podsByNode().has('b'), false);
  assert.deepEqual(
    work
      .podsByNode()
      .get('a')
      ?.map((p) => p.planned),
    [false, false, true],
  );

  // Phase 2: a created pod older than `now` of an earlier pod (clock skew) still sorts by age.
  work.apply({ create: ['a'], delete: [{ pod: a2, reason: 'RollingUpdate' }] }, 'new', 1);
  assert.deepEqual(names(work), rebuilt(work));
  assert.equal(work.podsByNode().get('a')?.[0]?.createdAt, 1);
});
