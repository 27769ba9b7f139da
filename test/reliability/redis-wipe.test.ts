/**
 * Reliability (issue 7): Redis loses the worker's data mid-rollout. Every key of the prefix is
 * deleted at once EXCEPT the simulated fleet's (`{prefix}:fleet:*`, which stands in for real
 * machines): BullMQ queues and the poll scheduler, the Git-derived history, the rollout state
 * (in-flight node updates, statuses, events, locks).
 *
 * The worker must recover by itself: it keeps serving; the runtime puts the poll scheduler back
 * (its watchdog looks every 5 s); the next poll rebuilds the history from Git with the same
 * revision numbers, hashes and commits; the rollout completes without ever exceeding the budget
 * (proven from the fleet's raw pod transitions, which survive the wipe); no node gets two pods of
 * one revision. A second wipe while nothing rolls out must not touch a single pod.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HistoryEntry } from '../../src/domain/views.js';
import { SCHEDULER_POLL } from '../../src/queue/names.js';
import type { WorkerHandle } from '../../src/worker/main.js';
import { commitFiles, makeRepo, removeTempDirs, tempDir, type TestRepo } from '../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../helpers/redis.js';
import { daemonSetYaml, getDaemonSet, sleep, startTestWorker, timeline, waitFor } from '../helpers/worker.js';
import {
  assertDrillOutcome,
  assertServing,
  condition,
  deletedPods,
  history,
  keysOf,
  waitRolledOut,
  wipeAllButFleet,
} from './support.js';

const NODES = 12;
const AGENT = 'default/agent';
const LOGGER = 'kube-system/logger';

describe('Redis wiped (all but the fleet) mid-rollout', { timeout: 120_000 }, () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('redis-wipe');
  let repo: TestRepo;
  let worker: WorkerHandle;

  const agent = (image: string) => daemonSetYaml({ image, maxUnavailable: 2 });
  const logger = daemonSetYaml({
    name: 'logger',
    namespace: 'kube-system',
    image: 'registry.example/logger:1.0',
    maxUnavailable: 3,
  });
  const schedulerExists = async () => (await worker.runtime.syncQueue.getJobScheduler(SCHEDULER_POLL)) !== undefined;
  /** The parts of a history entry that must survive a rebuild. */
  const comparable = (h: HistoryEntry[]) =>
    h.map(({ revision, hash, commit, subject, date, author, path }) => ({
      revision,
      hash,
      commit,
      subject,
      date,
      author,
      path,
    }));

  before(async () => {
    repo = makeRepo();
    commitFiles(repo, { 'agent.yaml': agent('registry.example/agent:1.0'), 'ks/logger.yaml': logger }, 'agent 1.0');
    commitFiles(repo, { 'agent.yaml': agent('registry.example/agent:1.1') }, 'agent 1.1', {
      name: 'Ana',
      date: '2024-02-01T00:00:00Z',
    });
    worker = await startTestWorker({
      repo: repo.dir,
      dataDir: tempDir('dsctl-data'),
      prefix,
      fleet: `sim:${NODES}`,
      simStartDelay: '500ms',
      pollInterval: '1s',
      lockDuration: '2s',
    });
    await waitRolledOut(worker.url, 'default', 'agent', 2, 30_000);
    await waitRolledOut(worker.url, 'kube-system', 'logger', 1, 30_000);
  });

  after(async () => {
    await worker?.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  test('the worker rebuilds the same history and completes the rollout within the budget', async (t) => {
    commitFiles(repo, { 'agent.yaml': agent('registry.example/agent:2.0') }, 'agent 2.0', {
      name: 'Bo',
      date: '2024-03-01T00:00:00Z',
    });
    // Mid-rollout: some nodes updated, most not.
    await waitFor(
      'revision 3 rolling out',
      async () => {
        const v = await getDaemonSet(worker.url, 'default', 'agent');
        return v?.status.updateRevisionNumber === 3 && v.status.updatedNumberScheduled >= 2 && v;
      },
      20_000,
      50,
    );
    const before = {
      agent: await history(worker.url, 'default', 'agent'),
      logger: await history(worker.url, 'kube-system', 'logger'),
      agentView: (await getDaemonSet(worker.url, 'default', 'agent'))!,
      cursor: await redis.get(`{${prefix}}:git:cursor`),
    };
    assert.deepEqual(
      before.agent.map((h) => h.revision),
      [1, 2, 3],
    );
    assert.ok(before.agentView.status.updatedNumberScheduled < NODES, 'the rollout finished before the wipe');
    const fleetKeysBefore = (await keysOf(redis, prefix)).filter((k) => k.includes(':fleet:')).length;

    const wipedAt = Date.now();
    const deleted = await wipeAllButFleet(redis, prefix);
    assert.ok(deleted > 10, `only ${deleted} keys deleted`);
    assert.equal(await redis.hlen(`{${prefix}}:fleet:nodes`), NODES, 'the fleet was wiped too');
    assert.ok((await keysOf(redis, prefix)).filter((k) => k.includes(':fleet:')).length >= fleetKeysBefore / 2);

    // The scheduler comes back by itself (watchdog every 5 s), while the worker keeps serving.
    const schedulerBackMs = await waitFor(
      'poll scheduler re-created',
      async () => {
        await assertServing(worker.url);
        return (await schedulerExists()) && Date.now() - wipedAt;
      },
      12_000,
      100,
    );
    const rebuilt = await waitFor(
      'history rebuilt',
      async () => {
        const h = await history(worker.url, 'default', 'agent');
        return h.length === 3 && h;
      },
      15_000,
      100,
    );
    const rebuiltMs = Date.now() - wipedAt;
    assert.deepEqual(comparable(rebuilt), comparable(before.agent), 'the rebuilt history differs');
    assert.deepEqual(
      comparable(await history(worker.url, 'kube-system', 'logger')),
      comparable(before.logger),
      'the other DaemonSet history differs',
    );
    assert.equal(await redis.get(`{${prefix}}:git:cursor`), before.cursor);

    const view = await waitRolledOut(worker.url, 'default', 'agent', 3, 40_000);
    assert.equal(view.status.updateRevision, before.agentView.status.updateRevision);
    assert.equal(view.metadata.generation, before.agentView.metadata.generation, 'generation changed by the rebuild');
    assert.equal(condition(view, 'Progressing')?.reason, 'RolloutComplete');
    const outcome = await assertDrillOutcome(worker.url, AGENT, { maxUnavailable: 2 });
    const loggerOutcome = await assertDrillOutcome(worker.url, LOGGER, { maxUnavailable: 3 });
    assert.deepEqual(deletedPods(loggerOutcome.entries, LOGGER), [], 'a pod of the untouched DaemonSet was deleted');
    t.diagnostic(
      `wiped ${deleted} keys; scheduler back after ${schedulerBackMs} ms, history rebuilt after ${rebuiltMs} ms, ` +
        `rollout complete after ${Date.now() - wipedAt} ms; most nodes down at once ${outcome.down} (budget 2)`,
    );
    assert.ok(schedulerBackMs <= 7000, `the poll scheduler came back after ${schedulerBackMs} ms (watchdog: 5 s)`);
  });

  test('a wipe while nothing rolls out touches no pod and leaves the API as it was', async () => {
    await waitRolledOut(worker.url, 'default', 'agent', 3, 10_000);
    const beforeViews = {
      agent: (await getDaemonSet(worker.url, 'default', 'agent'))!,
      logger: (await getDaemonSet(worker.url, 'kube-system', 'logger'))!,
    };
    const entriesBefore = await timeline(worker.url);
    const lastTs = entriesBefore.at(-1)?.ts ?? 0;

    await wipeAllButFleet(redis, prefix);
    // Right after the wipe the API may not know the DaemonSets yet: a 404 that says so, never a 500.
    const early = await fetch(`${worker.url}/api/v1/namespaces/default/daemonsets/agent`);
    assert.ok(early.status === 200 || early.status === 404, `GET daemonset answered ${early.status}`);
    if (early.status === 404) assert.match(((await early.json()) as { message: string }).message, /not found/);

    const view = await waitRolledOut(worker.url, 'default', 'agent', 3, 20_000);
    await waitRolledOut(worker.url, 'kube-system', 'logger', 1, 10_000);
    await sleep(1500); // room for a wrong reconcile to delete or re-create pods
    const entries = await timeline(worker.url);
    const after = entries.filter((e) => e.ts > lastTs || !entriesBefore.some((b) => b.id === e.id));
    assert.deepEqual(after, [], 'pods changed after a wipe of an idle worker');
    assert.equal(view.status.updateRevision, beforeViews.agent.status.updateRevision);
    assert.equal(view.metadata.generation, beforeViews.agent.metadata.generation);
    await assertDrillOutcome(worker.url, AGENT, { maxUnavailable: 2 });
    await assertDrillOutcome(worker.url, LOGGER, { maxUnavailable: 3 });
    await waitFor('poll scheduler re-created', schedulerExists, 8000);
  });

  test('three wipes in a row during one rollout: it still completes within the budget', async (t) => {
    const before = await history(worker.url, 'default', 'agent');
    const sha = commitFiles(repo, { 'agent.yaml': agent('registry.example/agent:3.0') }, 'agent 3.0');
    const wipes: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      // Each wipe lands once the rollout has moved on since the previous one (or after 6 s at most).
      const target = 2 + 3 * i;
      await waitFor(
        `${target} nodes on revision 4`,
        async () => {
          const v = await getDaemonSet(worker.url, 'default', 'agent');
          return v?.status.updateRevisionNumber === 4 && v.status.updatedNumberScheduled >= target;
        },
        20_000,
        50,
      ).catch(() => undefined);
      const v = await getDaemonSet(worker.url, 'default', 'agent');
      if (v && v.status.updateRevisionNumber === 4 && v.status.updatedNumberScheduled >= NODES) break;
      wipes.push(await wipeAllButFleet(redis, prefix));
      await assertServing(worker.url);
    }
    assert.ok(wipes.length >= 2, `only ${wipes.length} wipes landed before the rollout finished`);
    const view = await waitRolledOut(worker.url, 'default', 'agent', 4, 40_000);
    const after = await history(worker.url, 'default', 'agent');
    assert.deepEqual(
      after.slice(0, -1).map((h) => [h.revision, h.hash, h.commit]),
      before.map((h) => [h.revision, h.hash, h.commit]),
    );
    assert.equal(after.at(-1)?.commit, sha);
    assert.equal(view.status.updateRevisionNumber, 4);
    const outcome = await assertDrillOutcome(worker.url, AGENT, { maxUnavailable: 2 });
    await assertDrillOutcome(worker.url, LOGGER, { maxUnavailable: 3 });
    t.diagnostic(
      `${wipes.length} wipes (${wipes.join(', ')} keys); rollout took ${Date.now() - started} ms; ` +
        `most nodes down at once ${outcome.down} (budget 2)`,
    );
  });
});
