/**
 * Three worker replicas as child processes on one Redis, 200 simulated nodes, maxUnavailable 10%,
 * and one replica killed with SIGKILL every 2 seconds (and replaced) while an image change rolls
 * out. The rollout must complete, never with more than 20 nodes down (from the raw timeline), and
 * no node may get two pods of the new revision.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { measureNodesDown } from '../../../src/fleet/timeline-analysis.js';
import { commitFiles, makeRepo, removeTempDirs, tempDir, type TestRepo } from '../../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';
import {
  daemonSetYaml,
  getDaemonSet,
  isRolledOut,
  sleep,
  spawnWorker,
  timeline,
  waitFor,
  type WorkerProcess,
} from '../../helpers/worker.js';

const NODES = 200;
const DS = 'default/agent';

describe('crash safety with three replicas', { timeout: 240_000 }, () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('crash');
  let repo: TestRepo;
  const replicas: WorkerProcess[] = [];
  let kills = 0;

  const args = () => [
    '--repo',
    repo.dir,
    '--data-dir',
    tempDir('dsctl-data'),
    '--prefix',
    prefix,
    '--fleet',
    `sim:${NODES}`,
    '--sim-start-delay',
    '1200ms',
    '--poll-interval',
    '1s',
    '--lock-duration',
    '2s',
    '--log-level',
    'warn',
  ];

  before(async () => {
    repo = makeRepo();
    commitFiles(
      repo,
      { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.0', maxUnavailable: '10%' }) },
      'v1',
    );
    replicas.push(...(await Promise.all([spawnWorker(args()), spawnWorker(args()), spawnWorker(args())])));
  });

  after(async () => {
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  test('the rollout completes within the budget while replicas are killed', async (t) => {
    const server = () => replicas.find((r) => r.child.exitCode === null && r.child.signalCode === null)!.url;
    await waitFor(
      'initial rollout',
      async () => isRolledOut(await getDaemonSet(server(), 'default', 'agent'), 1),
      60_000,
    );

    commitFiles(
      repo,
      { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:2.0', maxUnavailable: '10%' }) },
      'v2',
    );
    const deadline = Date.now() + 150_000;
    let done = false;
    while (!done && Date.now() < deadline) {
      await sleep(2000);
      const victim = replicas.shift()!;
      victim.child.kill('SIGKILL');
      kills++;
      await victim.exited;
      replicas.push(await spawnWorker(args()));
      done = isRolledOut(await getDaemonSet(server(), 'default', 'agent'), 2);
    }
    const view = await waitFor(
      'rollout of revision 2',
      async () => {
        const v = await getDaemonSet(server(), 'default', 'agent');
        return isRolledOut(v, 2) && v;
      },
      60_000,
    );
    assert.ok(kills >= 2, `only ${kills} replicas were killed; the rollout was too fast to test anything`);

    const entries = await timeline(server());
    const down = measureNodesDown(entries, DS);
    assert.ok(down.max <= 20, `${down.max} nodes were down at once (budget 20): ${down.nodes.join(',')}`);
    const created = new Map<string, number>();
    for (const e of entries) {
      if (e.daemonSet === DS && e.event === 'created' && e.revision === view.status.updateRevision) {
        created.set(e.node, (created.get(e.node) ?? 0) + 1);
      }
    }
    assert.equal(created.size, NODES, 'every node got the new revision');
    t.diagnostic(`replicas killed: ${kills}; most nodes down at once: ${down.max} (budget 20)`);
    const twice = [...created].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'nodes updated twice');
  });
});
