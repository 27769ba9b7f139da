import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Condition } from '../../../src/domain/views.js';
import type { FleetPod } from '../../../src/fleet/driver.js';
import { buildConditions, estimateEtaSeconds, overlayInflight } from '../../../src/worker/reconciler.js';
import type { DesiredDaemonSet } from '../../../src/worker/desired-state.js';
import type { InflightEntry } from '../../../src/worker/rollout-state.js';

const pod = (node: string, revision: string, ready = true): FleetPod => ({
  name: `p-${node}-${revision}`,
  node,
  revision,
  ready,
  readySince: ready ? 1 : undefined,
  createdAt: 0,
  phase: 'Running',
  daemonSet: 'default/ds',
  images: ['img'],
});
const entry = (revision: string, mode: 'replace' | 'create' = 'replace'): InflightEntry => ({
  jobId: `default/ds|${revision}|x`,
  revision,
  mode,
  since: 100,
});

describe('overlayInflight', () => {
  test('a replace in flight hides the old pod and shows a not-ready new one', () => {
    const out = overlayInflight([pod('n1', 'old'), pod('n2', 'old')], new Map([['n1', entry('new')]]), 'new', 200);
    assert.deepEqual(
      out.map((p) => [p.node, p.revision, p.ready]),
      [
        ['n2', 'old', true],
        ['n1', 'new', false],
      ],
    );
  });

  test('a surge in flight keeps the old pod next to the new one', () => {
    const out = overlayInflight([pod('n1', 'old')], new Map([['n1', entry('new', 'create')]]), 'new', 200);
    assert.deepEqual(out.map((p) => p.revision).sort(), ['new', 'old']);
  });

  test('the real new pod is used once it exists', () => {
    const out = overlayInflight([pod('n1', 'new', true)], new Map([['n1', entry('new')]]), 'new', 200);
    assert.deepEqual(out, [pod('n1', 'new', true)]);
  });

  test('an update of an older revision shows as an unavailable old pod, to be replaced', () => {
    const out = overlayInflight([pod('n1', 'broken', false)], new Map([['n1', entry('broken')]]), 'fixed', 200);
    assert.deepEqual(
      out.map((p) => [p.node, p.revision, p.ready]),
      [['n1', 'broken', false]],
    );
  });
});

describe('estimateEtaSeconds', () => {
  test('mean node time times the remaining waves', () => {
    assert.equal(
      estimateEtaSeconds([2000, 4000], { desiredNumberScheduled: 10, updatedNumberScheduled: 4 }, 2, false),
      9,
    );
  });
  test('unknown without observations, zero when complete', () => {
    assert.equal(estimateEtaSeconds([], { desiredNumberScheduled: 10, updatedNumberScheduled: 4 }, 2, false), null);
    assert.equal(estimateEtaSeconds([], { desiredNumberScheduled: 10, updatedNumberScheduled: 10 }, 2, true), 0);
  });
});

describe('buildConditions', () => {
  const desired = { errors: [] } as unknown as DesiredDaemonSet;
  const base = {
    previous: [],
    now: 100_000,
    complete: false,
    paused: false,
    counts: { desiredNumberScheduled: 5, updatedNumberScheduled: 2, numberAvailable: 4 },
    lastProgressAt: 100_000,
    deadlineSeconds: undefined,
    inflightNodes: [] as string[],
    unavailableNodes: [] as string[],
    desired,
    source: undefined,
  };
  const find = (cs: Condition[], type: string): Condition => {
    const found = cs.find((c) => c.type === type);
    assert.ok(found, `no ${type} condition`);
    return found;
  };

  test('nodes down for other reasons that hold the budget are named at once', () => {
    const cs = buildConditions({ ...base, unavailableNodes: ['node-3'] });
    const stalled = find(cs, 'Stalled');
    assert.equal(stalled.reason, 'BudgetExhausted');
    assert.match(stalled.message, /node-3/);
  });

  test('a rollout past its progress deadline is Progressing=False and names the stuck nodes', () => {
    const cs = buildConditions({ ...base, deadlineSeconds: 10, lastProgressAt: 80_000, inflightNodes: ['node-1'] });
    const progressing = find(cs, 'Progressing');
    assert.deepEqual([progressing.status, progressing.reason], ['False', 'ProgressDeadlineExceeded']);
    assert.match(progressing.message, /node-1/);
  });

  test('complete, paused and manifest errors', () => {
    assert.equal(find(buildConditions({ ...base, complete: true }), 'Progressing').reason, 'RolloutComplete');
    assert.equal(find(buildConditions({ ...base, paused: true }), 'Progressing').reason, 'Paused');
    const withError = {
      ...base,
      desired: {
        errors: [{ commit: 'abcdef0123', file: 'ds.yaml', line: 3, column: 5, message: 'bad' }],
      } as unknown as DesiredDaemonSet,
    };
    assert.match(find(buildConditions(withError), 'ManifestInvalid').message, /ds\.yaml:3:5: bad/);
  });

  test('lastTransitionTime moves only when the status changes', () => {
    const first = buildConditions({ ...base, complete: true });
    const again = buildConditions({ ...base, complete: true, previous: first, now: 200_000 });
    assert.equal(find(again, 'Progressing').lastTransitionTime, find(first, 'Progressing').lastTransitionTime);
  });
});
