/** The reconcile debouncer with real timers: which requests fire, how soon, and which are dropped. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { DEBOUNCE_MAX_MS, ReconcileDebouncer } from '../../../src/worker/reconcile-debouncer.js';

function recorder() {
  const fired: { daemonSet: string; reason: string; at: number }[] = [];
  const started = performance.now();
  const debouncer = new ReconcileDebouncer((daemonSet, reason) =>
    fired.push({ daemonSet, reason, at: performance.now() - started }),
  );
  return { debouncer, fired };
}

describe('ReconcileDebouncer', () => {
  test('requests of one DaemonSet in one window fire once; other DaemonSets fire on their own', async (t) => {
    const { debouncer, fired } = recorder();
    t.after(() => debouncer.close());
    for (let i = 0; i < 100; i++) debouncer.request('default/a', `node ${i}`, 'now');
    debouncer.request('default/b', 'node x', 'now');
    await sleep(120);
    assert.deepEqual(fired.map((f) => f.daemonSet).sort(), ['default/a', 'default/b']);
  });

  test('a refresh-only request is dropped when a reconcile ends after it was made', async (t) => {
    const { debouncer, fired } = recorder();
    t.after(() => debouncer.close());
    debouncer.request('default/a', 'node 1 updated', 'refresh');
    debouncer.reconciled('default/a', 5); // e.g. the plan that enqueued node 1 ends now
    await sleep(120);
    assert.deepEqual(fired, []);
  });

  test('a refresh-only request that fires while a reconcile runs is dropped: that reconcile writes the status', async (t) => {
    const { debouncer, fired } = recorder();
    t.after(() => debouncer.close());
    let finishPlan!: () => void;
    const plan = debouncer.around(
      'default/a',
      () => new Promise<'planned'>((resolve) => (finishPlan = () => resolve('planned'))),
      () => true,
    );
    debouncer.request('default/a', 'node 1 updated', 'refresh'); // a node of the plan going out finished
    await sleep(120);
    finishPlan();
    assert.equal(await plan, 'planned');
    await sleep(50);
    assert.deepEqual(fired, []);
  });

  test('a reconcile that did not get the lock neither drops later refreshes nor sets the windows', async (t) => {
    const { debouncer, fired } = recorder();
    t.after(() => debouncer.close());
    await debouncer.around(
      'default/a',
      () => sleep(30).then(() => 'locked' as const),
      () => false,
    );
    debouncer.request('default/a', 'node 1 updated', 'refresh');
    await sleep(120);
    assert.equal(fired.length, 1);
  });

  test('a refresh-only request fires when no reconcile came since, and not again within the interval', async (t) => {
    const { debouncer, fired } = recorder();
    t.after(() => debouncer.close());
    debouncer.request('default/a', 'node 1 updated', 'refresh');
    await sleep(120);
    assert.equal(fired.length, 1);
    debouncer.reconciled('default/a', 5);
    debouncer.request('default/a', 'node 2 updated', 'refresh');
    await sleep(120);
    assert.equal(fired.length, 1, 'within a second of the last reconcile, a refresh waits');
  });

  test('a request that needs planning is kept even when a reconcile ends before it fires', async (t) => {
    const { debouncer, fired } = recorder();
    t.after(() => debouncer.close());
    debouncer.request('default/a', 'node 1 updated', 'refresh');
    debouncer.request('default/a', 'node 2 failed', 'soon');
    debouncer.reconciled('default/a', 0);
    await sleep(120);
    assert.deepEqual(
      fired.map((f) => f.reason),
      ['node 1 updated'],
    );
  });

  test('an urgent request shortens a pending long window instead of waiting behind it', async (t) => {
    const { debouncer, fired } = recorder();
    t.after(() => debouncer.close());
    debouncer.reconciled('default/a', DEBOUNCE_MAX_MS); // a costly reconcile: `soon` waits the longest window
    debouncer.request('default/a', 'node 1 updated', 'soon');
    await sleep(50);
    assert.equal(fired.length, 0, 'the soon window is still open');
    debouncer.request('default/a', 'node 2 updated', 'now');
    await sleep(100);
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.reason, 'node 2 updated');
    assert.ok(fired[0]!.at < DEBOUNCE_MAX_MS / 2, `fired at +${fired[0]!.at.toFixed(0)} ms`);
    await sleep(DEBOUNCE_MAX_MS);
    assert.equal(fired.length, 1, 'the replaced soon request does not fire as well');
  });
});
