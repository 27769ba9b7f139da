import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonSet, PodTemplateSpec } from '../../../src/domain/kubernetes.js';
import {
  applyDaemonSet,
  applyTemplate,
  changeCauseOf,
  previousRevision,
  pruneRevisions,
  type DaemonSetHistory,
  type HashFunction,
  type Revision,
  type RevisionHistory,
  type RevisionOrigin,
} from '../../../src/revision/history.js';
import { templateHash } from '../../../src/revision/hash.js';

const tpl = (image: string): PodTemplateSpec => ({
  metadata: { labels: { app: 'fluentd' } },
  spec: { containers: [{ name: 'fluentd', image }] },
});
const A = tpl('fluentd:a');
const B = tpl('fluentd:b');
const C = tpl('fluentd:c');
const D = tpl('fluentd:d');

const origin = (n: number): RevisionOrigin => ({
  commit: `c${n}`.padEnd(40, '0'),
  author: 'Ada',
  date: `2024-01-0${n}T00:00:00Z`,
  subject: `commit ${n}`,
  changeCause: `commit ${n}`,
  path: 'ds.yaml',
});

/** Replays templates (one per commit) and returns the final history and every step's change. */
function replay(
  templates: PodTemplateSpec[],
  opts: { limit?: number; hash?: HashFunction; live?: Set<string> } = {},
): { history: RevisionHistory | undefined; changes: string[] } {
  let history: RevisionHistory | undefined;
  const changes: string[] = [];
  templates.forEach((template, i) => {
    const r = applyTemplate(
      history,
      { template, origin: origin(i + 1), revisionHistoryLimit: opts.limit, liveHashes: opts.live },
      { hash: opts.hash },
    );
    history = r.history;
    changes.push(r.change);
  });
  return { history, changes };
}

const numbersByImage = (h: RevisionHistory | undefined): Record<string, number> =>
  Object.fromEntries(
    (h?.revisions ?? []).map((r) => [String(r.template.spec?.containers?.[0]?.image).slice(8), r.revision]),
  );

const numberingCases: {
  name: string;
  templates: PodTemplateSpec[];
  limit?: number;
  want: Record<string, number>;
  changes?: string[];
}[] = [
  { name: 'first template is revision 1', templates: [A], want: { a: 1 }, changes: ['created'] },
  { name: 'each template change takes the next number', templates: [A, B, C], want: { a: 1, b: 2, c: 3 } },
  {
    name: 'same template again makes no revision',
    templates: [A, A, B, B],
    want: { a: 1, b: 2 },
    changes: ['created', 'unchanged', 'created', 'unchanged'],
  },
  {
    name: 'A→B→C→A reuses A as 4 and 1 disappears',
    templates: [A, B, C, A],
    want: { b: 2, c: 3, a: 4 },
    changes: ['created', 'created', 'created', 'reused'],
  },
  { name: 'toggling between two templates renumbers each time', templates: [A, B, A, B, A], want: { b: 4, a: 5 } },
  { name: 'limit 0 keeps only the current revision', templates: [A, B, C], limit: 0, want: { c: 3 } },
  {
    name: 'limit 0: returning to a pruned template creates it anew with the next number',
    templates: [A, B, A],
    limit: 0,
    want: { a: 3 },
    changes: ['created', 'created', 'created'],
  },
  { name: 'limit 2 drops the lowest numbers first', templates: [A, B, C, D], limit: 2, want: { b: 2, c: 3, d: 4 } },
  {
    name: 'limit 2 with a return: numbering ignores pruning',
    templates: [A, B, C, D, B],
    limit: 2,
    want: { c: 3, d: 4, b: 5 },
  },
  { name: 'limit above the count prunes nothing', templates: [A, B, C], limit: 10, want: { a: 1, b: 2, c: 3 } },
];

for (const c of numberingCases) {
  test(`numbering: ${c.name}`, () => {
    const { history, changes } = replay(c.templates, { limit: c.limit });
    assert.deepEqual(numbersByImage(history), c.want);
    if (c.changes) assert.deepEqual(changes, c.changes);
    const numbers = history!.revisions.map((r) => r.revision);
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
      'sorted ascending',
    );
  });
}

test('reused revision keeps its hash, takes the reusing commit and remembers its creation', () => {
  const { history } = replay([A, B, C, A]);
  const a = history!.revisions.find((r) => r.revision === 4)!;
  assert.equal(a.hash, templateHash(A));
  assert.equal(a.commit, origin(4).commit);
  assert.equal(a.changeCause, 'commit 4');
  assert.deepEqual(a.createdBy, { ...origin(1), revision: 1 });
  // A second reuse still points at the very first creation.
  const again = replay([A, B, A, B, A]).history!.revisions.find((r) => r.revision === 5)!;
  assert.equal(again.createdBy?.commit, origin(1).commit);
  assert.equal(again.commit, origin(5).commit);
});

test('templates equal up to key order and empty fields are the same revision', () => {
  const reordered: PodTemplateSpec = {
    spec: { containers: [{ image: 'fluentd:a', name: 'fluentd' }], tolerations: [] },
    metadata: { annotations: {}, labels: { app: 'fluentd' } },
  };
  const { history, changes } = replay([A, reordered]);
  assert.deepEqual(changes, ['created', 'unchanged']);
  assert.equal(history!.revisions.length, 1);
});

test('matching is by template content, not by hash', () => {
  // Every template hashes to the same value: content still tells them apart.
  const constant: HashFunction = (_t, cc) => (cc === undefined ? 'same' : `same${cc}`);
  const { history, changes } = replay([A, B, A], { hash: constant });
  assert.deepEqual(changes, ['created', 'created', 'reused']);
  assert.deepEqual(numbersByImage(history), { b: 2, a: 3 });
});

const collisionCases: {
  name: string;
  templates: PodTemplateSpec[];
  wantCount: number | undefined;
  wantHashes: string[];
}[] = [
  { name: 'no collision leaves the count unset', templates: [A, B], wantCount: undefined, wantHashes: ['h-a', 'h-b'] },
  { name: 'one collision sets the count to 1', templates: [A, C], wantCount: 1, wantHashes: ['h-a', 'h-c#1'] },
  {
    name: 'the count never decreases and feeds later hashes',
    templates: [A, C, B],
    wantCount: 1,
    wantHashes: ['h-a', 'h-c#1', 'h-b#1'],
  },
  {
    name: 'repeated collisions bump until the hash is free',
    templates: [A, C, D],
    wantCount: 2,
    wantHashes: ['h-a', 'h-c#1', 'h-d#2'],
  },
];

for (const c of collisionCases) {
  test(`collision: ${c.name}`, () => {
    // C without a count collides with A; D with count 1 collides with C's second hash.
    const forced: Record<string, string> = { 'c|-': 'h-a', 'd|1': 'h-c#1' };
    const hash: HashFunction = (t, cc) => {
      const img = String((t as PodTemplateSpec).spec?.containers?.[0]?.image).slice(8);
      return forced[`${img}|${cc ?? '-'}`] ?? `h-${img}${cc === undefined ? '' : `#${cc}`}`;
    };
    const { history } = replay(c.templates, { hash });
    assert.equal(history!.collisionCount, c.wantCount);
    assert.deepEqual(
      history!.revisions.map((r) => r.hash),
      c.wantHashes,
    );
  });
}

test('collision: a reused revision keeps its original hash after the count changed', () => {
  const hash: HashFunction = (t, cc) => {
    const img = String((t as PodTemplateSpec).spec?.containers?.[0]?.image).slice(8);
    return img === 'c' && cc === undefined ? 'h-a' : `h-${img}${cc === undefined ? '' : `#${cc}`}`;
  };
  const { history } = replay([A, B, C, B], { hash });
  assert.equal(history!.collisionCount, 1);
  assert.deepEqual(
    history!.revisions.map((r) => [r.revision, r.hash]),
    [
      [1, 'h-a'],
      [3, 'h-c#1'],
      [4, 'h-b'],
    ],
  );
});

const rev = (n: number, hash = `h${n}`): Revision => ({ ...origin(n), revision: n, hash, template: tpl(`x:${n}`) });

const pruneCases: { name: string; old: number[]; limit: number; live?: number[]; kept: number[] }[] = [
  { name: 'under the limit keeps all', old: [1, 2], limit: 3, kept: [1, 2] },
  { name: 'over the limit drops lowest first', old: [1, 2, 3, 4], limit: 2, kept: [3, 4] },
  { name: 'limit 0 drops all', old: [1, 2, 3], limit: 0, kept: [] },
  { name: 'live revisions are skipped', old: [1, 2, 3, 4], limit: 2, live: [1], kept: [1, 4] },
  { name: 'only non-live revisions count toward the kill', old: [1, 2, 3, 4], limit: 1, live: [1, 3], kept: [1, 3] },
  { name: 'live revisions may exceed the limit', old: [1, 2], limit: 0, live: [1, 2], kept: [1, 2] },
];

for (const c of pruneCases) {
  test(`prune: ${c.name}`, () => {
    const live = c.live ? new Set(c.live.map((n) => `h${n}`)) : undefined;
    const { kept, pruned } = pruneRevisions(
      c.old.map((n) => rev(n)),
      c.limit,
      live,
    );
    assert.deepEqual(
      kept.map((r) => r.revision),
      c.kept,
    );
    assert.equal(kept.length + pruned.length, c.old.length);
  });
}

test('prune: the current revision is never pruned, live hashes are kept', () => {
  const live = new Set([templateHash(A)]);
  const { history } = replay([A, B, C], { limit: 0, live });
  assert.deepEqual(numbersByImage(history), { a: 1, c: 3 });
});

const ds = (
  template: PodTemplateSpec,
  spec: Partial<NonNullable<DaemonSet['spec']>> = {},
  cause?: string,
): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: {
    name: 'fluentd',
    namespace: 'kube-system',
    ...(cause ? { annotations: { 'kubernetes.io/change-cause': cause } } : {}),
  },
  spec: {
    selector: { matchLabels: { app: 'fluentd' } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    revisionHistoryLimit: 10,
    ...spec,
    template,
  },
});

const generationCases: {
  name: string;
  steps: DaemonSet[];
  want: { generation: number; templateGeneration: number; revisions: number[]; changes: string[] };
}[] = [
  {
    name: 'a new DaemonSet starts at generation 1',
    steps: [ds(A)],
    want: { generation: 1, templateGeneration: 1, revisions: [1], changes: ['created'] },
  },
  {
    name: 'strategy-only change bumps generation, makes no revision',
    steps: [ds(A), ds(A, { updateStrategy: { type: 'OnDelete' } })],
    want: { generation: 2, templateGeneration: 1, revisions: [1], changes: ['created', 'unchanged'] },
  },
  {
    name: 'template change bumps both',
    steps: [ds(A), ds(B)],
    want: { generation: 2, templateGeneration: 2, revisions: [1, 2], changes: ['created', 'created'] },
  },
  {
    name: 'metadata-only change bumps nothing',
    steps: [ds(A), ds(A, {}, 'new cause')],
    want: { generation: 1, templateGeneration: 1, revisions: [1], changes: ['created', 'unchanged'] },
  },
  {
    name: 'return to an old template bumps the template generation',
    steps: [ds(A), ds(B), ds(A)],
    want: { generation: 3, templateGeneration: 3, revisions: [2, 3], changes: ['created', 'created', 'reused'] },
  },
  {
    name: 'lowering revisionHistoryLimit prunes without a template change',
    steps: [ds(A), ds(B), ds(C), ds(C, { revisionHistoryLimit: 1 })],
    want: {
      generation: 4,
      templateGeneration: 3,
      revisions: [2, 3],
      changes: ['created', 'created', 'created', 'unchanged'],
    },
  },
];

for (const c of generationCases) {
  test(`daemonset: ${c.name}`, () => {
    let state: DaemonSetHistory | undefined;
    const changes: string[] = [];
    c.steps.forEach((d, i) => {
      const r = applyDaemonSet(state, { daemonSet: d, commit: origin(i + 1), path: 'ds.yaml' });
      state = r.state;
      changes.push(r.change);
    });
    assert.equal(state!.generation, c.want.generation);
    assert.equal(state!.templateGeneration, c.want.templateGeneration);
    assert.deepEqual(
      state!.revisions.map((r) => r.revision),
      c.want.revisions,
    );
    assert.deepEqual(changes, c.want.changes);
  });
}

test('change-cause comes from the annotation, else the commit subject', () => {
  assert.equal(changeCauseOf(ds(A, {}, 'set image'), 'subject'), 'set image');
  assert.equal(changeCauseOf(ds(A), 'subject'), 'subject');
  const r = applyDaemonSet(undefined, { daemonSet: ds(A, {}, 'kubectl set image'), commit: origin(1), path: 'a.yaml' });
  assert.equal(r.current.changeCause, 'kubectl set image');
  assert.equal(r.current.path, 'a.yaml');
});

test('revisionHistoryLimit override Infinity keeps everything (rollout history --all)', () => {
  let state: DaemonSetHistory | undefined;
  for (const [i, t] of [A, B, C, D].entries()) {
    state = applyDaemonSet(state, {
      daemonSet: ds(t, { revisionHistoryLimit: 0 }),
      commit: origin(i + 1),
      path: 'ds.yaml',
      revisionHistoryLimit: Infinity,
    }).state;
  }
  assert.deepEqual(
    state!.revisions.map((r) => r.revision),
    [1, 2, 3, 4],
  );
  assert.equal(previousRevision(state, 3)?.revision, 2);
  assert.equal(previousRevision(state, 1), undefined);
});
