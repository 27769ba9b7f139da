import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PodSpec, Taint, Toleration } from '../../../src/domain/kubernetes.js';
import type { NodeInput } from '../../../src/domain/plan.js';
import { eligibilityChecker, nodeShouldRunDaemonPod, toleratesTaint } from '../../../src/rollout/eligibility.js';

const spec = (extra: Partial<PodSpec> = {}): PodSpec => ({ containers: [{ name: 'app', image: 'img' }], ...extra });
const taint = (key: string, effect: string, value?: string): Taint => ({ key, effect, ...(value ? { value } : {}) });

describe('nodeShouldRunDaemonPod', () => {
  const cases: { name: string; node: NodeInput; spec: PodSpec; want: [boolean, boolean] }[] = [
    { name: 'plain node runs the pod', node: { name: 'n' }, spec: spec(), want: [true, true] },
    {
      name: 'template nodeName elsewhere excludes the node',
      node: { name: 'n' },
      spec: spec({ nodeName: 'other' }),
      want: [false, false],
    },
    { name: 'template nodeName here is fine', node: { name: 'n' }, spec: spec({ nodeName: 'n' }), want: [true, true] },
    {
      name: 'nodeSelector must match every key exactly',
      node: { name: 'n', labels: { a: '1' } },
      spec: spec({ nodeSelector: { a: '1', b: '2' } }),
      want: [false, false],
    },
    {
      name: 'nodeSelector matched',
      node: { name: 'n', labels: { a: '1', b: '2', c: '3' } },
      spec: spec({ nodeSelector: { a: '1', b: '2' } }),
      want: [true, true],
    },
    {
      name: 'untolerated NoSchedule keeps an existing pod',
      node: { name: 'n', taints: [taint('k', 'NoSchedule')] },
      spec: spec(),
      want: [false, true],
    },
    {
      name: 'untolerated NoExecute removes the pod',
      node: { name: 'n', taints: [taint('k', 'NoExecute')] },
      spec: spec(),
      want: [false, false],
    },
    {
      name: 'PreferNoSchedule is ignored',
      node: { name: 'n', taints: [taint('k', 'PreferNoSchedule')] },
      spec: spec(),
      want: [true, true],
    },
    {
      name: 'not ready node: not desired, pod may stay',
      node: { name: 'n', ready: false },
      spec: spec(),
      want: [false, true],
    },
    {
      name: 'not ready node with a toleration for not-ready NoSchedule is desired',
      node: { name: 'n', ready: false },
      spec: spec({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }] }),
      want: [true, true],
    },
    {
      name: 'cordoned node still runs pods',
      node: { name: 'n', unschedulable: true },
      spec: spec(),
      want: [true, true],
    },
    {
      name: 'unreachable NoSchedule is not tolerated by default',
      node: { name: 'n', taints: [taint('node.kubernetes.io/unreachable', 'NoSchedule')] },
      spec: spec(),
      want: [false, true],
    },
    {
      name: 'network-unavailable needs hostNetwork',
      node: { name: 'n', taints: [taint('node.kubernetes.io/network-unavailable', 'NoSchedule')] },
      spec: spec(),
      want: [false, true],
    },
    {
      name: 'network-unavailable tolerated with hostNetwork',
      node: { name: 'n', taints: [taint('node.kubernetes.io/network-unavailable', 'NoSchedule')] },
      spec: spec({ hostNetwork: true }),
      want: [true, true],
    },
    {
      name: 'control-plane taint tolerated by an Exists toleration',
      node: { name: 'n', taints: [taint('node-role.kubernetes.io/control-plane', 'NoSchedule')] },
      spec: spec({
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
      }),
      want: [true, true],
    },
    {
      name: 'matchFields metadata.name selects one node',
      node: { name: 'n' },
      spec: spec({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }] }],
            },
          },
        },
      }),
      want: [true, true],
    },
    {
      name: 'matchFields on another field matches nothing',
      node: { name: 'n' },
      spec: spec({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['n'] }] }],
            },
          },
        },
      }),
      want: [false, false],
    },
    {
      name: 'DoesNotExist and Lt',
      node: { name: 'n', labels: { cores: '4' } },
      spec: spec({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'gpu', operator: 'DoesNotExist' },
                    { key: 'cores', operator: 'Lt', values: ['8'] },
                  ],
                },
              ],
            },
          },
        },
      }),
      want: [true, true],
    },
    {
      name: 'NotIn without values is an invalid term and matches nothing',
      node: { name: 'n', labels: { a: '1' } },
      spec: spec({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'b', operator: 'NotIn' }] }],
            },
          },
        },
      }),
      want: [false, false],
    },
    {
      name: 'Exists with values is an invalid term and matches nothing',
      node: { name: 'n', labels: { a: '1' } },
      spec: spec({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['1'] }] }],
            },
          },
        },
      }),
      want: [false, false],
    },
    {
      name: 'no terms at all matches nothing',
      node: { name: 'n' },
      spec: spec({
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      }),
      want: [false, false],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = nodeShouldRunDaemonPod(c.node, c.spec);
      assert.deepEqual([got.shouldRun, got.shouldContinueRunning], c.want);
    });
  }

  test('one checker compiled per template answers every case of its template, with shared frozen results', () => {
    for (const c of cases) {
      const check = eligibilityChecker(c.spec);
      for (let i = 0; i < 2; i++) {
        const got = check(c.node);
        assert.deepEqual([got.shouldRun, got.shouldContinueRunning], c.want, c.name);
        assert.ok(Object.isFrozen(got), c.name);
      }
    }
    const check = eligibilityChecker(spec());
    assert.equal(check({ name: 'a' }), check({ name: 'b' }));
  });
});

describe('toleratesTaint', () => {
  const cases: { name: string; toleration: Toleration; taint: Taint; want: boolean }[] = [
    {
      name: 'Equal with same value',
      toleration: { key: 'k', value: 'v' },
      taint: taint('k', 'NoSchedule', 'v'),
      want: true,
    },
    {
      name: 'Equal with other value',
      toleration: { key: 'k', value: 'x' },
      taint: taint('k', 'NoSchedule', 'v'),
      want: false,
    },
    {
      name: 'Equal missing value is ""',
      toleration: { key: 'k', operator: 'Equal' },
      taint: taint('k', 'NoSchedule'),
      want: true,
    },
    {
      name: 'Exists ignores value',
      toleration: { key: 'k', operator: 'Exists' },
      taint: taint('k', 'NoExecute', 'v'),
      want: true,
    },
    {
      name: 'empty key Exists tolerates all',
      toleration: { operator: 'Exists' },
      taint: taint('any', 'NoExecute'),
      want: true,
    },
    {
      name: 'effect must match when set',
      toleration: { key: 'k', operator: 'Exists', effect: 'NoSchedule' },
      taint: taint('k', 'NoExecute'),
      want: false,
    },
    { name: 'other key', toleration: { key: 'a', operator: 'Exists' }, taint: taint('b', 'NoSchedule'), want: false },
    {
      name: 'unknown operator',
      toleration: { key: 'k', operator: 'Gt' },
      taint: taint('k', 'NoSchedule'),
      want: false,
    },
  ];
  for (const c of cases) test(c.name, () => assert.equal(toleratesTaint(c.toleration, c.taint), c.want));
});
