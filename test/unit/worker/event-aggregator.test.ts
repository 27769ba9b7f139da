/** Kubernetes' event aggregation (client-go EventAggregator): nine go out one by one, then they are combined. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AGGREGATE_WINDOW_MS, EventAggregator, type NewEvent } from '../../../src/worker/event-aggregator.js';

const created = (pod: string): NewEvent => ({
  type: 'Normal',
  reason: 'SuccessfulCreate',
  message: `Created pod: ${pod}`,
  from: 'daemonset-controller',
});
const deleted = (pod: string): NewEvent => ({
  ...created(pod),
  reason: 'SuccessfulDelete',
  message: `Deleted pod: ${pod}`,
});

describe('EventAggregator', () => {
  test('nine distinct messages of a reason go out one by one; the tenth and later are combined, per reason', () => {
    const aggregator = new EventAggregator(() => 1_000);
    const events = Array.from({ length: 12 }, (_, i) => [deleted(`old-${i}`), created(`new-${i}`)]).flat();
    const { single, combined } = aggregator.split('default/agent', events);
    assert.equal(single.length, 18);
    assert.deepEqual(
      single.slice(-2).map((e) => e.message),
      ['Deleted pod: old-8', 'Created pod: new-8'],
    );
    assert.deepEqual(combined, [
      { ...deleted('old-11'), count: 3 },
      { ...created('new-11'), count: 3 },
    ]);
    // Later calls go on combining, and report only what they bring.
    const next = aggregator.split('default/agent', [created('new-12')]);
    assert.deepEqual(next, { single: [], combined: [{ ...created('new-12'), count: 1 }] });
  });

  test('the same message repeated counts once toward the nine, as client-go keys by message', () => {
    const aggregator = new EventAggregator(() => 1_000);
    const { single, combined } = aggregator.split(
      'default/agent',
      Array.from({ length: 20 }, () => created('same')),
    );
    assert.equal(single.length, 20);
    assert.deepEqual(combined, []);
  });

  test('DaemonSets, types and sources each have their own window; a quiet window starts over', () => {
    let now = 1_000;
    const aggregator = new EventAggregator(() => now);
    const nine = Array.from({ length: 9 }, (_, i) => created(`p-${i}`));
    assert.equal(aggregator.split('default/a', nine).single.length, 9);
    assert.equal(aggregator.split('default/b', nine).single.length, 9, 'another DaemonSet');
    assert.equal(
      aggregator.split('default/a', [{ ...created('x'), from: 'dsctl-gitops' }]).single.length,
      1,
      'another source',
    );
    assert.equal(aggregator.split('default/a', [created('p-9')]).combined.length, 1, 'the tenth is combined');
    now += AGGREGATE_WINDOW_MS + 1;
    assert.equal(aggregator.split('default/a', [created('p-10')]).single.length, 1, 'after ten quiet minutes');
    aggregator.forget('default/b');
    now += 1;
    assert.equal(aggregator.split('default/b', [created('p-9')]).single.length, 1, 'forgotten');
  });
});
