import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  FleetInputError,
  NodeNotFoundError,
  PodExistsError,
  SimulatedFleetDriver,
  fleetKeys,
  measureNodesDown,
  type CreatePodRequest,
  type FleetPod,
  type SimulatedFleetOptions,
} from '../../../src/fleet/index.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';

/** The labels every simulated node starts with, as a kubelet sets them. */
function wellKnownLabels(name: string): Record<string, string> {
  return { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' };
}

const DS = 'kube-system/filebeat';
const DELAY_MS = 80;

let redis: Redis;
let redis2: Redis;

before(() => {
  redis = connectTestRedis();
  redis2 = connectTestRedis();
});

after(async () => {
  await Promise.all([redis.quit(), redis2.quit()]);
});

/** A fresh fleet of `nodes` nodes under its own prefix, deleted after the test. */
async function useFleet(
  t: TestContext,
  nodes = 3,
  options: Partial<Omit<SimulatedFleetOptions, 'redis' | 'prefix'>> = {},
): Promise<{ driver: SimulatedFleetDriver; prefix: string }> {
  const prefix = uniquePrefix('fleet');
  t.after(() => cleanupPrefix(redis, prefix));
  const driver = new SimulatedFleetDriver({ redis, prefix, startDelayMs: DELAY_MS, ...options });
  assert.equal(await driver.initFleet(nodes), true);
  return { driver, prefix };
}

function podRequest(overrides: Partial<CreatePodRequest> = {}): CreatePodRequest {
  const node = overrides.node ?? 'node-1';
  const revision = overrides.revision ?? 'rev1';
  return {
    daemonSet: DS,
    node,
    revision,
    podName: `filebeat-${revision}-${node}`,
    images: ['docker.elastic.co/beats/filebeat:8.14.0'],
    idempotencyKey: `${DS}|${revision}|${node}`,
    ...overrides,
  };
}

/** Polls until `check` returns a value (not undefined) or fails after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function podOf(driver: SimulatedFleetDriver, name: string): Promise<FleetPod | undefined> {
  return (await driver.listPods(DS)).find((p) => p.name === name);
}

async function waitReady(driver: SimulatedFleetDriver, name: string): Promise<FleetPod> {
  return waitFor(`${name} ready`, async () => {
    const pod = await podOf(driver, name);
    return pod?.ready ? pod : undefined;
  });
}

void describe('SimulatedFleetDriver: nodes', () => {
  void test('init creates node-1..node-N, sorted in plain string order, all ready', async (t) => {
    const { driver } = await useFleet(t, 11);
    const nodes = await driver.listNodes();
    assert.deepEqual(
      nodes.map((n) => n.name),
      ['node-1', 'node-10', 'node-11', 'node-2', 'node-3', 'node-4', 'node-5', 'node-6', 'node-7', 'node-8', 'node-9'],
    );
    assert.deepEqual(nodes[0], { name: 'node-1', ready: true, labels: wellKnownLabels('node-1') });
  });

  void test('init is idempotent: an existing fleet is left as it is', async (t) => {
    const { driver, prefix } = await useFleet(t, 3);
    assert.equal(await driver.removeNode('node-2'), true);
    assert.equal(await SimulatedFleetDriver.init(redis, prefix, 3), false);
    assert.equal(await driver.initFleet(5), false);
    assert.deepEqual(
      (await driver.listNodes()).map((n) => n.name),
      ['node-1', 'node-3'],
    );
  });

  void test('concurrent init from two connections creates the fleet once', async (t) => {
    const prefix = uniquePrefix('fleet-init');
    t.after(() => cleanupPrefix(redis, prefix));
    const results = await Promise.all([
      SimulatedFleetDriver.init(redis, prefix, 4),
      SimulatedFleetDriver.init(redis2, prefix, 4),
      SimulatedFleetDriver.init(redis, prefix, 4),
    ]);
    assert.equal(results.filter(Boolean).length, 1);
  });

  void test('addNode adds a node with labels, taints and flags, and replaces it when it exists', async (t) => {
    const { driver } = await useFleet(t, 1);
    await driver.addNode({
      name: 'gpu-1',
      labels: { 'kubernetes.io/os': 'linux', gpu: 'true' },
      taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
      unschedulable: true,
    });
    await driver.addNode({ name: 'edge-1', labels: {}, taints: [], ready: false });
    assert.deepEqual(await driver.listNodes(), [
      { name: 'edge-1', ready: false },
      {
        name: 'gpu-1',
        labels: { 'kubernetes.io/os': 'linux', gpu: 'true' },
        taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
        ready: true,
        unschedulable: true,
      },
      { name: 'node-1', ready: true, labels: wellKnownLabels('node-1') },
    ]);
    await driver.addNode({ name: 'gpu-1' });
    assert.deepEqual(
      (await driver.listNodes()).find((n) => n.name === 'gpu-1'),
      { name: 'gpu-1', ready: true },
    );
  });

  void test('addNode rejects malformed nodes', async (t) => {
    const { driver } = await useFleet(t, 1);
    await assert.rejects(driver.addNode({ name: 'bad name' }), FleetInputError);
    await assert.rejects(driver.addNode({ name: 'n', taints: [{ key: '', effect: 'NoSchedule' }] }), FleetInputError);
  });

  void test('removeNode removes the node and deletes its pods; a second call returns false', async (t) => {
    const { driver } = await useFleet(t, 3);
    await driver.createPod(podRequest({ node: 'node-2' }));
    await driver.createPod(podRequest({ node: 'node-3' }));
    assert.equal(await driver.removeNode('node-2'), true);
    assert.equal(await driver.removeNode('node-2'), false);
    assert.equal(await driver.setNodeReady('node-2', false), false);
    assert.deepEqual(
      (await driver.listNodes()).map((n) => n.name),
      ['node-1', 'node-3'],
    );
    assert.deepEqual(
      (await driver.listPods()).map((p) => p.node),
      ['node-3'],
    );
    const deleted = (await driver.timeline()).filter((e) => e.event === 'deleted');
    assert.deepEqual(
      deleted.map((e) => e.pod),
      ['filebeat-rev1-node-2'],
    );
    await assert.rejects(driver.createPod(podRequest({ node: 'node-2', idempotencyKey: 'again' })), NodeNotFoundError);
  });
});

void describe('SimulatedFleetDriver: pod readiness', () => {
  void test('a new pod is Pending, then Running and ready after the start delay', async (t) => {
    const { driver } = await useFleet(t, 2);
    const { created, pod } = await driver.createPod(podRequest({ createdBy: 'worker-a' }));
    assert.equal(created, true);
    assert.deepEqual(pod, {
      name: 'filebeat-rev1-node-1',
      node: 'node-1',
      revision: 'rev1',
      daemonSet: DS,
      images: ['docker.elastic.co/beats/filebeat:8.14.0'],
      image: 'docker.elastic.co/beats/filebeat:8.14.0',
      createdAt: pod.createdAt,
      phase: 'Pending',
      ready: false,
      createdBy: 'worker-a',
      idempotencyKey: `${DS}|rev1|node-1`,
    });
    const ready = await waitReady(driver, pod.name);
    assert.equal(ready.phase, 'Running');
    assert.equal(ready.readySince, pod.createdAt + DELAY_MS);
    const snap = await driver.snapshot(DS);
    assert.ok(snap.now >= pod.createdAt + DELAY_MS);
    assert.deepEqual(snap.pods, [ready]);
    assert.equal(snap.nodes.length, 2);
  });

  void test('the ready transition is stamped createdAt + delay even when nobody looks until much later', async (t) => {
    const { driver } = await useFleet(t, 2);
    const { pod } = await driver.createPod(podRequest());
    await sleep(DELAY_MS * 4);
    const timeline = await driver.timeline();
    assert.deepEqual(
      timeline.map((e) => [e.event, e.ts]),
      [
        ['created', pod.createdAt],
        ['ready', pod.createdAt + DELAY_MS],
      ],
    );
    assert.equal((await podOf(driver, pod.name))?.readySince, pod.createdAt + DELAY_MS);
  });

  void test('a zero start delay makes the pod ready at creation', async (t) => {
    const { driver } = await useFleet(t, 1, { startDelayMs: 0 });
    const { pod } = await driver.createPod(podRequest());
    assert.equal(pod.ready, true);
    assert.equal(pod.phase, 'Running');
    assert.equal(pod.readySince, pod.createdAt);
  });

  void test('a zero start delay records created then ready at the creation time, and nothing pending', async (t) => {
    const { driver, prefix } = await useFleet(t, 1, { startDelayMs: 0 });
    const { pod } = await driver.createPod(podRequest());
    assert.deepEqual(
      (await driver.timeline()).map((e) => [e.event, e.pod, e.ts]),
      [
        ['created', pod.name, pod.createdAt],
        ['ready', pod.name, pod.createdAt],
      ],
    );
    assert.equal(await redis.zcard(fleetKeys(prefix).pending), 0);
  });

  void test('a zero start delay on a node that is not ready gives a Running pod that is not ready', async (t) => {
    const { driver } = await useFleet(t, 1, { startDelayMs: 0 });
    assert.equal(await driver.setNodeReady('node-1', false), true);
    const { pod } = await driver.createPod(podRequest());
    assert.equal(pod.phase, 'Running');
    assert.equal(pod.ready, false);
    assert.equal(pod.readySince, undefined);
    assert.equal(await driver.setNodeReady('node-1', true), true);
    const after = await podOf(driver, pod.name);
    assert.equal(after?.ready, true);
    assert.deepEqual(
      (await driver.timeline()).filter((e) => e.pod === pod.name).map((e) => e.event),
      ['created', 'ready'],
    );
  });

  for (const failImage of [/:typo$/, ':typo$']) {
    void test(`a pod whose image matches failImage ${String(failImage)} never becomes ready`, async (t) => {
      const { driver } = await useFleet(t, 2, { failImage });
      const bad = await driver.createPod(podRequest({ images: ['sidecar:1.0', 'filebeat:typo'] }));
      const good = await driver.createPod(podRequest({ node: 'node-2' }));
      await waitReady(driver, good.pod.name);
      await sleep(DELAY_MS * 3);
      const pod = await podOf(driver, bad.pod.name);
      assert.equal(pod?.ready, false);
      assert.equal(pod?.phase, 'Pending');
      assert.equal(pod?.readySince, undefined);
      assert.equal(await driver.setNodeReady('node-1', false), true);
      assert.equal(await driver.setNodeReady('node-1', true), true);
      assert.equal((await podOf(driver, bad.pod.name))?.ready, false);
      const events = (await driver.timeline()).filter((e) => e.pod === bad.pod.name).map((e) => e.event);
      assert.deepEqual(events, ['created']);
    });
  }

  void test('a global failImage RegExp matches every call (no lastIndex state)', async (t) => {
    const { driver } = await useFleet(t, 3, { failImage: /typo/g });
    for (const node of ['node-1', 'node-2', 'node-3']) {
      await driver.createPod(podRequest({ node, images: ['filebeat:typo'] }));
    }
    await sleep(DELAY_MS * 3);
    assert.deepEqual(
      (await driver.listPods(DS)).map((p) => p.ready),
      [false, false, false],
    );
  });

  void test('a node that is not ready makes its pods not ready; ready again makes them ready again', async (t) => {
    const { driver } = await useFleet(t, 2);
    const { pod } = await driver.createPod(podRequest());
    await driver.createPod(podRequest({ node: 'node-2' }));
    await waitReady(driver, pod.name);

    assert.equal(await driver.setNodeReady('node-1', false), true);
    const down = await driver.snapshot(DS);
    assert.deepEqual(
      down.nodes.find((n) => n.name === 'node-1'),
      { name: 'node-1', ready: false, labels: wellKnownLabels('node-1') },
    );
    const notReady = down.pods.find((p) => p.name === pod.name);
    assert.equal(notReady?.ready, false);
    assert.equal(notReady?.phase, 'Running');
    assert.equal(notReady?.readySince, undefined);
    assert.equal(down.pods.find((p) => p.node === 'node-2')?.ready, true);

    assert.equal(await driver.setNodeReady('node-1', false), true, 'setting the same state again is a no-op');
    await sleep(20);
    assert.equal(await driver.setNodeReady('node-1', true), true);
    const up = await podOf(driver, pod.name);
    assert.equal(up?.ready, true);

    const events = (await driver.timeline()).filter((e) => e.pod === pod.name);
    assert.deepEqual(
      events.map((e) => e.event),
      ['created', 'ready', 'not-ready', 'ready'],
    );
    const [, firstReady, notReadyEntry, readyAgain] = events;
    assert.equal(firstReady?.ts, pod.createdAt + DELAY_MS);
    assert.ok(notReadyEntry !== undefined && readyAgain !== undefined);
    assert.ok(readyAgain.ts >= notReadyEntry.ts + 15);
    assert.equal(up?.readySince, readyAgain.ts);
  });

  void test('a pod on a not-ready node starts but becomes ready only when the node is ready', async (t) => {
    const { driver } = await useFleet(t, 1);
    await driver.setNodeReady('node-1', false);
    const { pod } = await driver.createPod(podRequest());
    await sleep(DELAY_MS * 3);
    const started = await podOf(driver, pod.name);
    assert.equal(started?.phase, 'Running');
    assert.equal(started?.ready, false);
    await driver.setNodeReady('node-1', true);
    const ready = await podOf(driver, pod.name);
    assert.equal(ready?.ready, true);
    const entries = await driver.timeline();
    assert.deepEqual(
      entries.map((e) => e.event),
      ['created', 'ready'],
    );
    assert.equal(ready?.readySince, entries[1]?.ts);
    assert.ok((entries[1]?.ts ?? 0) >= pod.createdAt + DELAY_MS * 2);
  });

  void test('a node marked not ready before the start time delays readiness until it is ready', async (t) => {
    const { driver } = await useFleet(t, 1, { startDelayMs: 150 });
    const { pod } = await driver.createPod(podRequest());
    await driver.setNodeReady('node-1', false);
    await sleep(300);
    assert.equal((await podOf(driver, pod.name))?.ready, false);
    await driver.setNodeReady('node-1', true);
    assert.equal((await podOf(driver, pod.name))?.ready, true);
    assert.deepEqual(
      (await driver.timeline()).map((e) => e.event),
      ['created', 'ready'],
    );
  });

  void test('replacing a node through addNode with ready:false makes its pods not ready', async (t) => {
    const { driver } = await useFleet(t, 1);
    const { pod } = await driver.createPod(podRequest());
    await waitReady(driver, pod.name);
    await driver.addNode({ name: 'node-1', labels: { zone: 'a' }, ready: false });
    assert.equal((await podOf(driver, pod.name))?.ready, false);
    assert.deepEqual(
      (await driver.timeline()).map((e) => e.event),
      ['created', 'ready', 'not-ready'],
    );
  });
});

void describe('SimulatedFleetDriver: createPod and deletePod', () => {
  void test('the same idempotency key twice creates one pod and one created event', async (t) => {
    const { driver } = await useFleet(t, 2);
    const first = await driver.createPod(podRequest());
    const second = await driver.createPod(podRequest());
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.deepEqual(second.pod, first.pod);
    const third = await driver.createPod(
      podRequest({ node: 'node-2', podName: 'other', idempotencyKey: first.pod.idempotencyKey ?? '' }),
    );
    assert.equal(third.created, false, 'the key wins over differing arguments');
    assert.equal(third.pod.name, first.pod.name);
    assert.equal((await driver.listPods()).length, 1);
    assert.equal((await driver.timeline()).filter((e) => e.event === 'created').length, 1);
  });

  void test('concurrent creates with one key from two connections create exactly one pod', async (t) => {
    const { driver, prefix } = await useFleet(t, 2);
    const other = new SimulatedFleetDriver({ redis: redis2, prefix, startDelayMs: DELAY_MS });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? driver : other).createPod(podRequest())),
    );
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => `${r.pod.name}@${r.pod.createdAt}`)).size, 1);
    assert.equal((await other.listPods(DS)).length, 1);
    assert.equal((await driver.timeline()).filter((e) => e.event === 'created').length, 1);
  });

  void test('concurrent creates of one pod name under different keys: one wins, the others get PodExistsError', async (t) => {
    const { driver, prefix } = await useFleet(t, 1);
    const other = new SimulatedFleetDriver({ redis: redis2, prefix, startDelayMs: DELAY_MS });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 === 0 ? driver : other).createPod(podRequest({ idempotencyKey: `key-${i}` })),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof PodExistsError);
  });

  void test('a key reused after its pod was deleted returns the last state of that pod and creates nothing', async (t) => {
    const { driver } = await useFleet(t, 1);
    const { pod } = await driver.createPod(podRequest());
    await waitReady(driver, pod.name);
    assert.equal(await driver.deletePod(DS, pod.name), true);
    const again = await driver.createPod(podRequest());
    assert.equal(again.created, false);
    assert.equal(again.pod.name, pod.name);
    assert.equal(again.pod.createdAt, pod.createdAt);
    assert.equal(again.pod.deleting, true);
    assert.equal(again.pod.ready, false);
    assert.ok(typeof again.pod.deletedAt === 'number' && again.pod.deletedAt >= pod.createdAt);
    assert.deepEqual(await driver.listPods(), []);
    assert.deepEqual(
      (await driver.timeline()).map((e) => e.event),
      ['created', 'ready', 'deleted'],
    );
  });

  void test('a deleted pod name can be reused under a new key', async (t) => {
    const { driver } = await useFleet(t, 1);
    const { pod } = await driver.createPod(podRequest());
    await driver.deletePod(DS, pod.name);
    const next = await driver.createPod(podRequest({ idempotencyKey: 'retry-2' }));
    assert.equal(next.created, true);
    assert.equal(next.pod.name, pod.name);
  });

  void test('createPod on a missing node fails with NodeNotFoundError and changes nothing', async (t) => {
    const { driver } = await useFleet(t, 1);
    await assert.rejects(driver.createPod(podRequest({ node: 'node-9' })), (err: unknown) => {
      assert.ok(err instanceof NodeNotFoundError);
      assert.equal(err.code, 'DSCTL_FLEET_NODE_NOT_FOUND');
      assert.match(err.message, /node "node-9" not found/);
      return true;
    });
    assert.deepEqual(await driver.listPods(), []);
    assert.deepEqual(await driver.timeline(), []);
    // The failed attempt did not consume the key.
    await driver.addNode({ name: 'node-9' });
    assert.equal((await driver.createPod(podRequest({ node: 'node-9' }))).created, true);
  });

  void test('createPod and deletePod reject malformed arguments', async (t) => {
    const { driver } = await useFleet(t, 1);
    await assert.rejects(driver.createPod(podRequest({ daemonSet: 'filebeat' })), FleetInputError);
    await assert.rejects(driver.createPod(podRequest({ podName: 'a b' })), FleetInputError);
    await assert.rejects(driver.createPod(podRequest({ idempotencyKey: '' })), FleetInputError);
    await assert.rejects(driver.createPod(podRequest({ images: [''] })), FleetInputError);
    await assert.rejects(driver.deletePod('ns/ds', ''), FleetInputError);
  });

  void test('deletePod deletes once, then returns false', async (t) => {
    const { driver } = await useFleet(t, 1);
    const { pod } = await driver.createPod(podRequest());
    assert.equal(await driver.deletePod(DS, pod.name), true);
    assert.equal(await driver.deletePod(DS, pod.name), false);
    assert.equal(await driver.deletePod('other/ds', pod.name), false);
    assert.deepEqual(await driver.listPods(DS), []);
    assert.deepEqual(
      (await driver.timeline()).map((e) => e.event),
      ['created', 'deleted'],
    );
    await sleep(DELAY_MS * 2);
    assert.deepEqual(
      (await driver.timeline()).map((e) => e.event),
      ['created', 'deleted'],
      'a pod deleted before its start time never becomes ready',
    );
  });

  void test('a pod deleted before its containers started never starts a pod created later under its name', async (t) => {
    const { driver, prefix } = await useFleet(t, 1, { startDelayMs: 300 });
    // Another replica whose pods of this image never start (a failing image is never pending).
    const other = new SimulatedFleetDriver({ redis: redis2, prefix, startDelayMs: 300, failImage: 'filebeat:bad' });
    const { pod } = await driver.createPod(podRequest());
    await sleep(100);
    assert.equal(await driver.deletePod(DS, pod.name), true);
    const next = await other.createPod(podRequest({ idempotencyKey: 'retry-2', images: ['filebeat:bad'] }));
    assert.equal(next.pod.name, pod.name);
    await sleep(300); // past the deleted pod's start time
    const now = await podOf(driver, pod.name);
    assert.deepEqual([now?.phase, now?.ready], ['Pending', false]);
  });

  void test('a DaemonSet stays listed while a converge replaces its only pod, and leaves with its last pod', async (t) => {
    const { driver, prefix } = await useFleet(t, 1, { startDelayMs: 0 });
    const keys = fleetKeys(prefix);
    await driver.createPod(podRequest());
    const replaced = await driver.convergeNode({ ...podRequest({ revision: 'rev2' }), deleteOtherRevisions: true });
    assert.deepEqual(replaced.deleted, ['filebeat-rev1-node-1']);
    assert.deepEqual(await redis.smembers(keys.daemonSets), [DS]);
    assert.deepEqual(
      (await driver.listPods()).map((p) => p.name),
      ['filebeat-rev2-node-1'],
    );
    assert.equal(await driver.deletePod(DS, 'filebeat-rev2-node-1'), true);
    assert.deepEqual(await redis.smembers(keys.daemonSets), []);
    assert.deepEqual(await driver.listPods(), []);
  });

  void test('a bad podCacheLimit is refused, naming the option', () => {
    for (const podCacheLimit of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => new SimulatedFleetDriver({ redis, prefix: 'dsctl-never-used', startDelayMs: 0, podCacheLimit }),
        (err: unknown) => err instanceof FleetInputError && /podCacheLimit/.test(err.message),
      );
    }
  });

  void test('pods of several DaemonSets are kept apart', async (t) => {
    const { driver } = await useFleet(t, 2);
    await driver.createPod(podRequest());
    await driver.createPod(podRequest({ daemonSet: 'monitoring/node-exporter', idempotencyKey: 'ne-1' }));
    assert.equal((await driver.listPods(DS)).length, 1);
    assert.equal((await driver.listPods('monitoring/node-exporter')).length, 1);
    assert.equal((await driver.listPods()).length, 2);
    assert.deepEqual(
      (await driver.snapshot('monitoring/node-exporter')).pods[0]?.daemonSet,
      'monitoring/node-exporter',
    );
    assert.deepEqual((await driver.snapshot('nobody/none')).pods, []);
  });
});

void describe('SimulatedFleetDriver: convergeNode', () => {
  const converge = (node: string, revision: string, extra: Partial<CreatePodRequest> = {}) => ({
    ...podRequest({ node, revision, ...extra }),
    deleteOtherRevisions: true,
  });

  void test('replaces the old pod, keeps a live pod of the revision, and a retry with the same key changes nothing', async (t) => {
    const { driver } = await useFleet(t, 1, { startDelayMs: 0 });
    const old = (await driver.createPod(podRequest())).pod;
    const first = await driver.convergeNode(converge('node-1', 'rev2'));
    assert.deepEqual(
      [first.created, first.deleted, first.pod.revision, first.pod.ready],
      [true, [old.name], 'rev2', true],
    );
    const retry = await driver.convergeNode(converge('node-1', 'rev2'));
    assert.deepEqual([retry.created, retry.deleted, retry.pod.name], [false, [], first.pod.name]);
    const other = await driver.convergeNode(
      converge('node-1', 'rev2', { idempotencyKey: 'another job', podName: 'x-2' }),
    );
    assert.deepEqual(
      [other.created, other.deleted, other.pod.name],
      [false, [], first.pod.name],
      'a live pod of the revision stays',
    );
    assert.deepEqual(
      (await driver.listPods(DS)).map((p) => p.name),
      [first.pod.name],
    );
  });

  void test('calls of one tick run as one batch, each with its own result or error', async (t) => {
    const { driver } = await useFleet(t, 4, { startDelayMs: 0 });
    for (const node of ['node-1', 'node-2', 'node-3']) await driver.createPod(podRequest({ node }));
    const taken = (await driver.createPod(podRequest({ node: 'node-4', revision: 'rev2', podName: 'taken' }))).pod;
    const results = await Promise.allSettled([
      driver.convergeNode(converge('node-1', 'rev2')),
      driver.convergeNode(converge('node-9', 'rev2')),
      driver.convergeNode(converge('node-2', 'rev2', { podName: taken.name })),
      driver.convergeNode(converge('node-3', 'rev2')),
    ]);
    const [one, missing, clash, three] = results;
    assert.ok(one.status === 'fulfilled' && one.value.created && one.value.deleted.length === 1);
    assert.ok(missing.status === 'rejected' && missing.reason instanceof NodeNotFoundError);
    assert.ok(clash.status === 'rejected' && clash.reason instanceof PodExistsError);
    assert.ok(three.status === 'fulfilled' && three.value.created);
    assert.deepEqual(
      (await driver.listPods(DS)).map((p) => [p.node, p.revision]).sort(),
      [
        ['node-1', 'rev2'],
        ['node-2', 'rev1'],
        ['node-3', 'rev2'],
        ['node-4', 'rev2'],
      ],
      'the failed requests changed nothing',
    );
    const nodes = (await driver.timeline()).filter((e) => e.event === 'deleted').map((e) => e.node);
    assert.deepEqual(nodes, ['node-1', 'node-3']);
  });
});

void describe('SimulatedFleetDriver: timeline, clock and shared state', () => {
  void test('nodes are parsed once per change: every node write, by any instance, is seen by the next read', async (t) => {
    const { driver, prefix } = await useFleet(t, 3);
    const other = new SimulatedFleetDriver({ redis: redis2, prefix, startDelayMs: DELAY_MS });
    const names = async () => (await driver.snapshot(DS)).nodes.map((n) => `${n.name}:${String(n.ready)}`);
    assert.deepEqual(await names(), ['node-1:true', 'node-2:true', 'node-3:true']);
    const first = (await driver.snapshot(DS)).nodes;
    const second = (await driver.snapshot(DS)).nodes;
    assert.notEqual(first, second, 'each read gets its own array');
    assert.equal(first[0], second[0], 'unchanged nodes are the parsed objects of the last change');
    assert.ok(Object.isFrozen(first[0]) && Object.isFrozen(first[0]?.labels));

    assert.equal(await other.setNodeReady('node-2', false), true);
    assert.deepEqual(await names(), ['node-1:true', 'node-2:false', 'node-3:true']);
    await other.addNode({ name: 'node-4', labels: { zone: 'b' } });
    assert.deepEqual(await names(), ['node-1:true', 'node-2:false', 'node-3:true', 'node-4:true']);
    await other.addNode({ name: 'node-4', labels: { zone: 'c' } });
    assert.deepEqual((await driver.listNodes()).find((n) => n.name === 'node-4')?.labels, { zone: 'c' });
    assert.equal(await other.removeNode('node-1'), true);
    assert.deepEqual(await names(), ['node-2:false', 'node-3:true', 'node-4:true']);
  });

  void test("a DaemonSet's pods are parsed once per change: every pod change, by any instance, is seen by the next read", async (t) => {
    const { driver, prefix } = await useFleet(t, 3);
    const other = new SimulatedFleetDriver({ redis: redis2, prefix, startDelayMs: DELAY_MS });
    // Sorted here: pods made in the same millisecond are ordered by name, not by creation.
    const pods = async () =>
      (await driver.snapshot(DS)).pods.map((p) => `${p.node}:${p.revision}:${p.phase}:${String(p.ready)}`).sort();
    assert.deepEqual(await pods(), []);
    await other.createPod(podRequest({ node: 'node-1' }));
    assert.deepEqual(await pods(), ['node-1:rev1:Pending:false']);
    const first = (await driver.snapshot(DS)).pods;
    const second = (await driver.snapshot(DS)).pods;
    assert.notEqual(first, second, 'each read gets its own array');
    assert.equal(first[0], second[0], 'unchanged pods are the parsed objects of the last change');
    assert.ok(Object.isFrozen(first[0]) && Object.isFrozen(first[0]?.images));
    assert.equal((await driver.listPods(DS))[0], first[0], 'listPods of one DaemonSet shares the cache');

    // Another DaemonSet's change leaves this one's pods as they were.
    await other.createPod(podRequest({ daemonSet: 'default/other', idempotencyKey: 'other|node-1' }));
    assert.equal((await driver.snapshot(DS)).pods[0], first[0]);

    // The start delay passing is a change too, made by whichever script looks first.
    await sleep(DELAY_MS + 20);
    assert.deepEqual(await pods(), ['node-1:rev1:Running:true']);
    assert.equal(await other.setNodeReady('node-1', false), true);
    assert.deepEqual(await pods(), ['node-1:rev1:Running:false']);
    assert.equal(await other.setNodeReady('node-1', true), true);
    assert.deepEqual(await pods(), ['node-1:rev1:Running:true']);
    await other.convergeNode({
      ...podRequest({ node: 'node-1', revision: 'rev2' }),
      deleteOtherRevisions: true,
    });
    assert.deepEqual(await pods(), ['node-1:rev2:Pending:false']);
    await other.createPod(podRequest({ node: 'node-2' }));
    assert.deepEqual(await pods(), ['node-1:rev2:Pending:false', 'node-2:rev1:Pending:false']);
    assert.equal(await other.deletePod(DS, 'filebeat-rev2-node-1'), true);
    assert.deepEqual(await pods(), ['node-2:rev1:Pending:false']);
    assert.equal(await other.removeNode('node-2'), true);
    assert.deepEqual(await pods(), []);
  });

  void test('the pod cache keeps the most recently read DaemonSets up to its limit', async (t) => {
    const { prefix } = await useFleet(t, 3);
    const driver = new SimulatedFleetDriver({ redis, prefix, startDelayMs: DELAY_MS, podCacheLimit: 2 });
    const sets = ['default/a', 'default/b', 'default/c'];
    for (const ds of sets) {
      for (const node of ds === 'default/c' ? ['node-1', 'node-2', 'node-3'] : ['node-1']) {
        await driver.createPod(podRequest({ daemonSet: ds, node, idempotencyKey: `${ds}|${node}` }));
      }
    }
    const a1 = (await driver.snapshot('default/a')).pods[0];
    const b1 = (await driver.snapshot('default/b')).pods[0];
    assert.equal((await driver.snapshot('default/a')).pods[0], a1, 'a and b fit: both kept');
    assert.equal((await driver.snapshot('default/b')).pods[0], b1);
    const c1 = (await driver.snapshot('default/c')).pods[0];
    assert.notEqual((await driver.snapshot('default/c')).pods[0], c1, 'three pods never fit: parsed each time');
    assert.equal((await driver.snapshot('default/a')).pods[0], a1, 'reading c evicted nothing');
    await driver.createPod(podRequest({ daemonSet: 'default/d', idempotencyKey: 'd' }));
    await driver.snapshot('default/d'); // a, b, d: the least recently read (b) goes
    assert.equal((await driver.snapshot('default/a')).pods[0], a1);
    const b2 = (await driver.snapshot('default/b')).pods[0];
    assert.notEqual(b2, b1);
    assert.deepEqual(b2, b1, 'parsed again, the same pod');
  });

  void test('pods of a fleet wiped and made again are never served from the old one', async (t) => {
    const { driver, prefix } = await useFleet(t, 3);
    await driver.createPod(podRequest({ node: 'node-1' }));
    assert.equal((await driver.snapshot(DS)).pods.length, 1);
    // Wiped and made again unseen by this instance: the new fleet's first pod change is its
    // change number 1 as well; the fleet's epoch tells the two apart.
    await cleanupPrefix(redis, prefix);
    assert.equal(await SimulatedFleetDriver.init(redis2, prefix, 3), true);
    await driver.createPod(podRequest({ node: 'node-2' }));
    assert.deepEqual(
      (await driver.snapshot(DS)).pods.map((p) => p.node),
      ['node-2'],
    );
  });

  void test('a fleet wiped and made again is read afresh, never from the nodes of the old one', async (t) => {
    const { driver, prefix } = await useFleet(t, 3);
    assert.equal((await driver.snapshot(DS)).nodes.length, 3);
    await cleanupPrefix(redis, prefix);
    assert.deepEqual((await driver.snapshot(DS)).nodes, []);
    assert.equal(await new SimulatedFleetDriver({ redis: redis2, prefix, startDelayMs: DELAY_MS }).initFleet(5), true);
    assert.equal((await driver.snapshot(DS)).nodes.length, 5);
    await cleanupPrefix(redis, prefix);
    assert.equal(await SimulatedFleetDriver.init(redis2, prefix, 2), true);
    assert.deepEqual(
      (await driver.listNodes()).map((n) => n.name),
      ['node-1', 'node-2'],
    );
  });

  void test('the timeline is ascending by ts and pages with sinceTs, afterId and limit', async (t) => {
    const { driver } = await useFleet(t, 4);
    for (const node of ['node-1', 'node-2', 'node-3']) {
      await driver.createPod(podRequest({ node }));
      await sleep(15);
    }
    await driver.setNodeReady('node-4', false);
    await sleep(DELAY_MS * 3);
    await driver.deletePod(DS, 'filebeat-rev1-node-2');
    const all = await driver.timeline();
    assert.equal(all.length, 7);
    for (let i = 1; i < all.length; i++) {
      const [prev, cur] = [all[i - 1], all[i]];
      assert.ok(prev !== undefined && cur !== undefined);
      assert.ok(prev.ts <= cur.ts);
      const [pm = 0, ps = 0] = prev.id.split('-').map(Number);
      const [cm = 0, cs = 0] = cur.id.split('-').map(Number);
      assert.ok(pm < cm || (pm === cm && ps < cs), `${prev.id} < ${cur.id}`);
    }
    const pods = await driver.listPods(DS);
    for (const e of all.filter((x) => x.event === 'ready')) {
      const created = all.find((x) => x.event === 'created' && x.pod === e.pod);
      assert.equal(e.ts, (created?.ts ?? NaN) + DELAY_MS);
    }
    for (const pod of pods) assert.equal(pod.readySince, pod.createdAt + DELAY_MS);

    const third = all[2];
    assert.ok(third !== undefined);
    assert.deepEqual(await driver.timeline({ afterId: third.id }), all.slice(3));
    assert.deepEqual(await driver.timeline({ limit: 2 }), all.slice(0, 2));
    assert.deepEqual(await driver.timeline({ limit: 0 }), []);
    const since = await driver.timeline({ sinceTs: third.ts });
    assert.ok(since.every((e) => e.ts >= third.ts));
    assert.deepEqual(
      since,
      all.filter((e) => e.ts >= third.ts),
    );
  });

  void test('now() is the Redis server clock and never goes backwards', async (t) => {
    const { driver } = await useFleet(t, 1);
    const [sec, micro] = await redis.time();
    const redisMs = Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
    const a = await driver.now();
    const b = await driver.now();
    assert.ok(a >= redisMs && a - redisMs < 1000);
    assert.ok(b >= a);
  });

  void test('two drivers on two connections see the same fleet', async (t) => {
    const { driver: a, prefix } = await useFleet(t, 2);
    const b = new SimulatedFleetDriver({ redis: redis2, prefix, startDelayMs: DELAY_MS });
    const { pod } = await a.createPod(podRequest());
    assert.deepEqual(await b.listPods(DS), [pod]);
    await waitReady(b, pod.name);
    assert.equal(await b.setNodeReady('node-1', false), true);
    const snap = await a.snapshot(DS);
    assert.equal(snap.nodes.find((n) => n.name === 'node-1')?.ready, false);
    assert.equal(snap.pods[0]?.ready, false);
    await b.addNode({ name: 'node-3' });
    assert.deepEqual(await a.listNodes(), await b.listNodes());
    assert.deepEqual(await a.timeline(), await b.timeline());
  });

  void test('every key lives under {prefix}:fleet and the key builder names them', async (t) => {
    const { driver, prefix } = await useFleet(t, 2, { startDelayMs: 60_000 });
    await driver.createPod(podRequest());
    const keys = fleetKeys(prefix);
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    for (const key of found) assert.ok(key.startsWith(`{${prefix}}:fleet:`), key);
    const expected = [
      keys.meta,
      keys.nodes,
      keys.daemonSets,
      keys.podsVersions,
      keys.pending,
      keys.timeline,
      keys.clock,
      keys.pods(DS),
      keys.nodePods('node-1'),
      keys.idempotency(`${DS}|rev1|node-1`),
    ];
    assert.deepEqual([...found].sort(), [...expected].sort());
    const ttl = await redis.pttl(keys.idempotency(`${DS}|rev1|node-1`));
    assert.ok(ttl > 0);
    assert.equal(new Set(expected.map((k) => k.slice(0, k.indexOf('}') + 1))).size, 1);
  });

  void test('fleetKeys rejects prefixes that would break the hash tag', () => {
    assert.throws(() => fleetKeys(''), FleetInputError);
    assert.throws(() => fleetKeys('a}b'), FleetInputError);
    assert.equal(fleetKeys('dsctl').nodes, '{dsctl}:fleet:nodes');
  });
});

void describe('SimulatedFleetDriver: a rolling update proven from the timeline', () => {
  async function rollOut(driver: SimulatedFleetDriver, nodes: string[], batchSize: number): Promise<void> {
    for (let i = 0; i < nodes.length; i += batchSize) {
      const batch = nodes.slice(i, i + batchSize);
      for (const node of batch) await driver.deletePod(DS, `filebeat-rev1-${node}`);
      for (const node of batch) await driver.createPod(podRequest({ node, revision: 'rev2' }));
      for (const node of batch) await waitReady(driver, `filebeat-rev2-${node}`);
    }
  }

  for (const batchSize of [1, 2]) {
    void test(`updating ${batchSize} node(s) at a time never has more than ${batchSize} down`, async (t) => {
      const { driver } = await useFleet(t, 5, { startDelayMs: 40 });
      const nodes = (await driver.listNodes()).map((n) => n.name);
      for (const node of nodes) await driver.createPod(podRequest({ node }));
      for (const node of nodes) await waitReady(driver, `filebeat-rev1-${node}`);
      await rollOut(driver, nodes, batchSize);
      const report = measureNodesDown(await driver.timeline(), DS);
      assert.equal(report.max, batchSize);
      const pods = await driver.listPods(DS);
      assert.deepEqual(
        pods.map((p) => [p.revision, p.ready]),
        nodes.map(() => ['rev2', true]),
      );
    });
  }
});
