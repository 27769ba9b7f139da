import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DaemonSet } from '../../../src/domain/kubernetes.js';
import { applyDaemonSetDefaults } from '../../../src/manifest/defaults.js';
import { validateDaemonSet } from '../../../src/manifest/validate.js';
import { daemonSet, daemonSetWith } from './builders.js';

const cases: { name: string; ds: DaemonSet; want: Record<string, unknown> }[] = [
  {
    name: 'nothing written gives RollingUpdate, maxUnavailable 1, maxSurge 0, history 10, minReady 0',
    ds: daemonSet(),
    want: {
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      minReadySeconds: 0,
    },
  },
  {
    name: 'an empty type means RollingUpdate',
    ds: daemonSetWith({ 'spec.updateStrategy': { type: '' } }),
    want: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } },
  },
  {
    name: 'maxSurge alone gets maxUnavailable 1 (and is then rejected by validation)',
    ds: daemonSetWith({ 'spec.updateStrategy': { rollingUpdate: { maxSurge: 1 } } }),
    want: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } },
  },
  {
    name: 'maxUnavailable written as a percentage is kept, maxSurge defaults to 0',
    ds: daemonSetWith({ 'spec.updateStrategy': { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } } }),
    want: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 0 } } },
  },
  {
    name: 'OnDelete gets no rollingUpdate',
    ds: daemonSetWith({ 'spec.updateStrategy': { type: 'OnDelete' } }),
    want: { updateStrategy: { type: 'OnDelete' } },
  },
  {
    name: 'OnDelete keeps a written rollingUpdate untouched',
    ds: daemonSetWith({ 'spec.updateStrategy': { type: 'OnDelete', rollingUpdate: { maxSurge: 1 } } }),
    want: { updateStrategy: { type: 'OnDelete', rollingUpdate: { maxSurge: 1 } } },
  },
  {
    name: 'an unknown type is left for validation to report',
    ds: daemonSetWith({ 'spec.updateStrategy': { type: 'Foo' } }),
    want: { updateStrategy: { type: 'Foo' } },
  },
  {
    name: 'null counts as absent',
    ds: daemonSetWith({
      'spec.updateStrategy': { type: null, rollingUpdate: { maxUnavailable: null } },
      'spec.revisionHistoryLimit': null,
      'spec.minReadySeconds': null,
    }),
    want: {
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      minReadySeconds: 0,
    },
  },
  {
    name: 'revisionHistoryLimit 0 and minReadySeconds written are kept',
    ds: daemonSetWith({ 'spec.revisionHistoryLimit': 0, 'spec.minReadySeconds': 30 }),
    want: { revisionHistoryLimit: 0, minReadySeconds: 30 },
  },
];

for (const c of cases) {
  test(`defaults: ${c.name}`, () => {
    const out = applyDaemonSetDefaults(c.ds);
    for (const [field, want] of Object.entries(c.want)) {
      assert.deepEqual((out.spec as Record<string, unknown>)[field], want, field);
    }
  });
}

test('defaults: namespace "default" when absent or empty, kept when written', () => {
  assert.equal(applyDaemonSetDefaults(daemonSet()).metadata?.namespace, 'default');
  assert.equal(applyDaemonSetDefaults(daemonSetWith({ 'metadata.namespace': '' })).metadata?.namespace, 'default');
  assert.equal(applyDaemonSetDefaults(daemonSetWith({ metadata: undefined })).metadata?.namespace, 'default');
  assert.equal(
    applyDaemonSetDefaults(daemonSetWith({ 'metadata.namespace': 'kube-system' })).metadata?.namespace,
    'kube-system',
  );
});

test('defaults: nothing inside spec.template is added or changed', () => {
  const ds = daemonSet();
  const before = structuredClone(ds.spec?.template);
  const out = applyDaemonSetDefaults(ds);
  assert.deepEqual(out.spec?.template, before);
  assert.equal(out.spec?.template?.spec?.restartPolicy, undefined);
});

test('defaults: the input is not mutated and a new object is returned', () => {
  const ds = daemonSet();
  const snapshot = structuredClone(ds);
  const out = applyDaemonSetDefaults(ds);
  assert.notEqual(out, ds);
  assert.notEqual(out.spec, ds.spec);
  assert.deepEqual(ds, snapshot);
});

test('defaults: applying twice gives the same object as applying once', () => {
  for (const c of cases) {
    const once = applyDaemonSetDefaults(c.ds);
    assert.deepEqual(applyDaemonSetDefaults(once), once, c.name);
  }
});

test('defaults: a missing spec is created with the defaults (validation then asks for selector and template)', () => {
  const out = applyDaemonSetDefaults(daemonSetWith({ spec: undefined }));
  assert.deepEqual(out.spec, {
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    revisionHistoryLimit: 10,
    minReadySeconds: 0,
  });
});

test('defaults: `maxSurge: 1` alone is rejected after defaulting', () => {
  const errors = validateDaemonSet(daemonSetWith({ 'spec.updateStrategy': { rollingUpdate: { maxSurge: 1 } } }));
  assert.deepEqual(errors, [
    {
      field: 'spec.updateStrategy.rollingUpdate.maxSurge',
      message:
        'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero',
    },
  ]);
  assert.deepEqual(
    validateDaemonSet(daemonSetWith({ 'spec.updateStrategy': { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } })),
    [],
  );
});

const junk: unknown[] = [null, undefined, 42, 'ds', [], [daemonSet()], { spec: 'x' }, { spec: { updateStrategy: 7 } }];
for (const value of junk) {
  test(`defaults: never throws on ${JSON.stringify(value) ?? 'undefined'}`, () => {
    assert.doesNotThrow(() => applyDaemonSetDefaults(value as DaemonSet));
  });
}

test('defaults: never throws on an object whose getter throws', () => {
  const hostile = {
    get spec(): never {
      throw new Error('boom');
    },
  };
  assert.equal(applyDaemonSetDefaults(hostile as DaemonSet), hostile);
});
