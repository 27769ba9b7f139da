/**
 * GitDesiredState against the real Redis and a real Git repository: a DaemonSet removed from Git
 * (pruning on) reads as deleted until forgotten, and one that Redis merely lost (a wipe) never
 * does, even when the wipe lands between reading the record and marking it known.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisHistoryStore } from '../../../src/revision/store.js';
import { GitSync } from '../../../src/source/git-sync.js';
import { SimpleGitSource } from '../../../src/source/simple-git-source.js';
import { GitDesiredState } from '../../../src/worker/git-desired-state.js';
import { commitFiles, makeRepo, removeTempDirs, tempDir, type TestRepo } from '../../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';
import { daemonSetYaml } from '../../helpers/worker.js';

const AGENT = 'default/agent';

describe('GitDesiredState', () => {
  let redis: Redis;
  let repo: TestRepo;
  const prefixes: string[] = [];

  before(() => {
    redis = connectTestRedis();
    repo = makeRepo();
    // Two files: a commit that empties the tracked path is held back, so removing agent leaves logger.
    const logger = daemonSetYaml({ name: 'logger', namespace: 'kube-system', image: 'registry.example/logger:1.0' });
    commitFiles(
      repo,
      { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.0' }), 'logger.yaml': logger },
      'agent 1.0, logger 1.0',
    );
  });

  after(async () => {
    for (const p of prefixes) await cleanupPrefix(redis, p);
    await redis.quit();
    removeTempDirs();
  });

  async function synced(): Promise<{ store: RedisHistoryStore; sync: GitSync; prefix: string }> {
    const prefix = uniquePrefix('desired-state');
    prefixes.push(prefix);
    const store = new RedisHistoryStore(redis, { prefix });
    const source = new SimpleGitSource({ url: repo.dir, branch: 'main', dir: join(tempDir('dsctl-clone'), 'c') });
    const sync = new GitSync({ source, store, prune: true });
    assert.equal((await sync.sync({ force: true })).outcome, 'synced');
    return { store, sync, prefix };
  }

  async function wipe(prefix: string): Promise<void> {
    const n = await cleanupPrefix(redis, prefix);
    assert.ok(n > 0, 'nothing to wipe');
  }

  test('a record lost with Redis (wiped between the read and the mark) is unknown, never deleted', async () => {
    const { store, prefix } = await synced();
    // The wipe lands right after this get has read the record, before it marks it known.
    let wipeOnce = true;
    const racing = Object.create(store) as RedisHistoryStore;
    racing.getDaemonSet = async (key) => {
      const record = await store.getDaemonSet(key);
      if (wipeOnce) {
        wipeOnce = false;
        await wipe(prefix);
      }
      return record;
    };
    const desired = new GitDesiredState(racing, redis, prefix);
    const stale = await desired.get(AGENT);
    assert.equal(stale?.deleted, false, 'the record read before the wipe');
    assert.deepEqual(await redis.smembers(`{${prefix}}:rollout:known`), [], 'marked known in the wiped Redis');
    assert.equal(await desired.get(AGENT), undefined, 'a DaemonSet Redis lost reads as deleted');
    assert.deepEqual(await desired.list(), []);
  });

  test('a DaemonSet removed from Git reads as deleted until forgotten', async () => {
    const { store, sync, prefix } = await synced();
    const desired = new GitDesiredState(store, redis, prefix);
    assert.equal((await desired.get(AGENT))?.deleted, false);
    commitFiles(repo, { 'agent.yaml': null }, 'remove agent');
    try {
      assert.equal((await sync.sync({ force: true })).outcome, 'synced');
      assert.equal((await desired.get(AGENT))?.deleted, true);
      assert.deepEqual(await desired.list(), [AGENT, 'kube-system/logger']);
      await desired.forget(AGENT);
      assert.equal(await desired.get(AGENT), undefined);
    } finally {
      commitFiles(repo, { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.0' }) }, 'agent back');
    }
  });
});
