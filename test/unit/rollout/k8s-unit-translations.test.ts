/**
 * Kubernetes DaemonSet controller unit tests (pkg/controller/daemon/daemon_controller_test.go,
 * update_test.go) whose dsctl translation is not a planner scenario: the planner refuses the
 * object instead of skipping the sync, or the upstream behaviour rests on machinery that the
 * pure planner deliberately leaves to the worker (failed-pod backoff). Each test says how the
 * upstream expectation maps.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DaemonSet } from '../../../src/domain/kubernetes.js';
import { InvalidDaemonSetError } from '../../../src/errors.js';
import { templateHash } from '../../../src/revision/hash.js';
import { planRollout } from '../../../src/rollout/plan.js';

const LABELS = { name: 'simple-daemon', type: 'production' };

function newDaemonSet(spec: Record<string, unknown> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'foo', namespace: 'default' },
    spec: {
      selector: { matchLabels: { ...LABELS } },
      updateStrategy: { type: 'OnDelete' },
      template: { metadata: { labels: { ...LABELS } }, spec: { containers: [{ name: 'foo', image: 'foo/bar' }] } },
      ...spec,
    },
  } as DaemonSet;
}

describe('Kubernetes unit tests translated outside the scenario format', () => {
  test('TestPodIsNotDeletedByDaemonsetWithEmptyLabelSelector: an empty selector is refused, nothing is planned', () => {
    // Upstream: syncDaemonSet sees an empty selector, emits Warning SelectingAll and returns
    // before manage, so the pod on node1 is not deleted (expected creates 0, deletes 0, events 1).
    // dsctl: such an object is invalid (the API server refuses it as well), so planRollout throws
    // and no create or delete can come out of it.
    for (const updateStrategy of [
      { type: 'OnDelete' },
      { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    ]) {
      const ds = newDaemonSet({ selector: {}, updateStrategy });
      ds.spec!.template!.spec!.nodeSelector = { foo: 'bar' };
      assert.throws(
        () =>
          planRollout({
            daemonSet: ds,
            nodes: [{ name: 'node1' }],
            pods: [{ name: 'not-a-daemon-pod', node: 'node1', revision: 'x', ready: true }],
            now: 1_000_000,
          }),
        InvalidDaemonSetError,
      );
    }
  });

  test('TestGetUnavailableNumbers (maxUnavailable 0, no surge): refused as the API server refuses it', () => {
    // Upstream the unit test feeds maxUnavailable 0 / maxSurge 0 straight to
    // updatedDesiredNodeCounts, which falls back to maxUnavailable 1 ("impossible configuration").
    // Validation makes that object unreachable; dsctl validates before planning, so it throws.
    // The scenario k8s-update-get-unavailable-numbers-two-nodes-one-without-pods.json covers the
    // effective value 1.
    const ds = newDaemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } } });
    assert.throws(
      () => planRollout({ daemonSet: ds, nodes: [{ name: 'node-0' }, { name: 'node-1' }], pods: [], now: 0 }),
      InvalidDaemonSetError,
    );
  });

  test('TestDaemonKillFailedPodsBackoff: the pure planner has no backoff; every sync deletes a failed pod', () => {
    // Upstream: the first sync deletes the failed pod (0,1) and starts a per-(DaemonSet,
    // generation, node) backoff; an immediate second sync, with the pod still there, is (0,0);
    // after the backoff delay it is (0,1) again. dsctl rule (daemonset-semantics.md §7): the
    // planner deletes failed pods immediately, the worker may add the 1 s to 15 min backoff. So
    // the same input always gives the delete.
    for (const updateStrategy of [
      { type: 'OnDelete' },
      { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    ]) {
      const ds = newDaemonSet({ updateStrategy });
      const pods = [
        { name: 'node-0-x', node: 'node-0', revision: templateHash(ds.spec!.template), phase: 'Failed' as const },
      ];
      for (const now of [1_000_000, 1_000_001]) {
        const result = planRollout({ daemonSet: ds, nodes: [{ name: 'node-0' }], pods, now });
        assert.deepEqual(result.create, []);
        assert.deepEqual(
          result.delete.map((d) => [d.pod, d.reason]),
          [['node-0-x', 'Failed']],
        );
      }
    }
  });
});
