import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LabelSelector } from '../../../src/domain/kubernetes.js';
import { labelSelectorMatches } from '../../../src/manifest/label-selector.js';

const labels = { app: 'filebeat', release: 'stable' };

const cases: { name: string; selector: LabelSelector | undefined; want: boolean }[] = [
  { name: 'an absent selector matches nothing', selector: undefined, want: false },
  { name: 'an empty selector matches everything', selector: {}, want: true },
  { name: 'matchLabels subset', selector: { matchLabels: { app: 'filebeat' } }, want: true },
  { name: 'matchLabels with a different value', selector: { matchLabels: { app: 'fluentd' } }, want: false },
  { name: 'matchLabels with a missing key', selector: { matchLabels: { tier: 'node' } }, want: false },
  {
    name: 'In',
    selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x', 'filebeat'] }] },
    want: true,
  },
  {
    name: 'In, key absent',
    selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
    want: false,
  },
  {
    name: 'NotIn',
    selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['filebeat'] }] },
    want: false,
  },
  {
    name: 'NotIn, key absent',
    selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] },
    want: true,
  },
  { name: 'Exists', selector: { matchExpressions: [{ key: 'release', operator: 'Exists' }] }, want: true },
  { name: 'DoesNotExist', selector: { matchExpressions: [{ key: 'release', operator: 'DoesNotExist' }] }, want: false },
  {
    name: 'an unknown operator matches nothing',
    selector: { matchExpressions: [{ key: 'app', operator: 'Gt' }] },
    want: false,
  },
  {
    name: 'matchLabels and matchExpressions are AND-ed',
    selector: {
      matchLabels: { app: 'filebeat' },
      matchExpressions: [{ key: 'release', operator: 'In', values: ['beta'] }],
    },
    want: false,
  },
];
for (const c of cases) {
  test(`labelSelectorMatches: ${c.name}`, () => {
    assert.equal(labelSelectorMatches(c.selector, labels), c.want);
  });
}

test('labelSelectorMatches: inherited properties are not labels', () => {
  assert.equal(labelSelectorMatches({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {}), false);
});
