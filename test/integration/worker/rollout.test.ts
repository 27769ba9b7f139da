/**
 * A real worker (in this process) on a real Git repository, real Redis and BullMQ, with a
 * simulated fleet of 5 nodes: the initial rollout, an image change with at most one node down
 * (proven from the raw timeline), a never-ready image that stalls at one node, and the fixing
 * commit that completes at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { measureNodesDown } from '../../../src/fleet/timeline-analysis.js';
import type { WorkerHandle } from '../../../src/worker/main.js';
import { commitFiles, makeRepo, removeTempDirs, tempDir, type TestRepo } from '../../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';
import {
  daemonSetYaml,
  getDaemonSet,
  isRolledOut,
  sleep,
  startTestWorker,
  timeline,
  waitFor,
} from '../../helpers/worker.js';

const DS = 'default/agent';

function createdPerNodeAndRevision(entries: { event: string; node: string; revision: string; daemonSet: string }[]) {
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (e.daemonSet !== DS || e.event !== 'created') continue;
    const key = `${e.node}@${e.revision}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('worker rollouts on a simulated fleet', () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('rollout');
  let repo: TestRepo;
  let worker: WorkerHandle;

  before(async () => {
    repo = makeRepo();
    commitFiles(repo, { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.0' }) }, 'agent 1.0');
    worker = await startTestWorker({
      repo: repo.dir,
      dataDir: tempDir('dsctl-data'),
      prefix,
      fleet: 'sim:5',
      simStartDelay: '150ms',
      simFailImage: ':broken$',
      pollInterval: '300ms',
      lockDuration: '3s',
    });
  });

  after(async () => {
    await worker?.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  test('the initial rollout puts one pod on every node', async () => {
    const view = await waitFor('initial rollout', async () => {
      const v = await getDaemonSet(worker.url, 'default', 'agent');
      return isRolledOut(v, 1) && v;
    });
    assert.equal(view.status.desiredNumberScheduled, 5);
    assert.equal(view.status.numberAvailable, 5);
    const pods = (await (await fetch(`${worker.url}/api/v1/pods`)).json()) as { node: string }[];
    assert.deepEqual(pods.map((p) => p.node).sort(), ['node-1', 'node-2', 'node-3', 'node-4', 'node-5']);
  });

  test('an image change rolls out with at most one node down, each node updated once', async () => {
    commitFiles(repo, { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.1' }) }, 'agent 1.1');
    const view = await waitFor('rollout of revision 2', async () => {
      const v = await getDaemonSet(worker.url, 'default', 'agent');
      return isRolledOut(v, 2) && v;
    });
    const entries = await timeline(worker.url);
    const down = measureNodesDown(entries, DS);
    assert.equal(down.max, 1, `more than one node down at once: ${JSON.stringify(down)}`);
    const created = [...createdPerNodeAndRevision(entries)].filter(([key]) =>
      key.endsWith(`@${view.status.updateRevision}`),
    );
    assert.equal(created.length, 5, 'every node got the new revision');
    for (const [key, n] of created) assert.equal(n, 1, `${key} got ${n} pods`);
  });

  test('a never-ready image stalls at one node and says why', async () => {
    commitFiles(repo, { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:broken' }) }, 'broken image');
    const stuck = await waitFor('one node on the broken revision', async () => {
      const v = await getDaemonSet(worker.url, 'default', 'agent');
      return v?.status.updateRevisionNumber === 3 && v.status.updatedNumberScheduled === 1 && v;
    });
    await sleep(1500); // time for a wrong implementation to spread further
    const view = (await getDaemonSet(worker.url, 'default', 'agent'))!;
    assert.equal(view.status.updatedNumberScheduled, 1, 'the broken image spread beyond maxUnavailable');
    assert.equal(view.status.numberAvailable, 4);
    assert.equal(stuck.status.numberUnavailable, 1);
    const progressing = view.status.conditions.find((c) => c.type === 'Available');
    assert.equal(progressing?.status, 'False');
    assert.match(progressing!.message, /node-1/);
    assert.equal(measureNodesDown(await timeline(worker.url), DS).max, 1);
  });

  test('the fixing commit rolls out at once, not blocked by the broken revision', async () => {
    commitFiles(repo, { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.2' }) }, 'agent 1.2');
    const view = await waitFor(
      'rollout of the fix',
      async () => {
        const v = await getDaemonSet(worker.url, 'default', 'agent');
        return isRolledOut(v, 4) && v;
      },
      20_000,
    );
    assert.equal(view.status.numberAvailable, 5);
    assert.equal(measureNodesDown(await timeline(worker.url), DS).max, 1);
    const history = (await (
      await fetch(`${worker.url}/api/v1/namespaces/default/daemonsets/agent/history`)
    ).json()) as {
      revision: number;
      subject: string;
    }[];
    assert.deepEqual(
      history.map((h) => [h.revision, h.subject]),
      [
        [1, 'agent 1.0'],
        [2, 'agent 1.1'],
        [3, 'broken image'],
        [4, 'agent 1.2'],
      ],
    );
  });
});
