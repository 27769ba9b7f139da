/**
 * The service surface of a real worker: push webhooks with signatures, the token on mutations,
 * metrics, the queue dashboard, and the CLI against it (issue 5's acceptance path).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { WorkerHandle } from '../../../src/worker/main.js';
import { commitFiles, makeRepo, removeTempDirs, tempDir, type TestRepo } from '../../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';
import { daemonSetYaml, getJson, startTestWorker, waitFor } from '../../helpers/worker.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SECRET = 'webhook-secret-for-tests';
const TOKEN = 'api-token-for-tests';

function githubPush(after: string): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    ref: 'refs/heads/main',
    after,
    repository: { full_name: 'acme/daemonsets', clone_url: 'https://git.example/acme/daemonsets.git' },
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': `delivery-${after}`,
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
  };
}

describe('worker service surface', { timeout: 120_000 }, () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('service');
  let repo: TestRepo;
  let worker: WorkerHandle;

  const history = () =>
    getJson<{ revision: number; commit: string }[]>(`${worker.url}/api/v1/namespaces/default/daemonsets/agent/history`);
  const cli = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', DSCTL_SERVER: worker.url, ...env },
    });

  before(async () => {
    repo = makeRepo();
    commitFiles(repo, { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.0' }) }, 'agent 1.0');
    worker = await startTestWorker({
      repo: repo.dir,
      dataDir: tempDir('dsctl-data'),
      prefix,
      fleet: 'sim:3',
      simStartDelay: '100ms',
      pollInterval: '1h',
      webhookSecret: SECRET,
      webhookRepo: 'acme/daemonsets',
      token: TOKEN,
    });
    await waitFor('first sync', async () => (await history()).length === 1);
  });

  after(async () => {
    await worker?.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  test('a push with a bad signature is refused and changes nothing', async () => {
    const sha = commitFiles(
      repo,
      { 'agent.yaml': daemonSetYaml({ image: 'registry.example/agent:1.1' }) },
      'agent 1.1',
    );
    const push = githubPush(sha);
    const res = await fetch(`${worker.url}/hooks/github`, {
      method: 'POST',
      body: push.body,
      headers: { ...push.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
    });
    assert.equal(res.status, 401);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await history()).length, 1, 'a refused webhook must not start a sync');
  });

  test('a signed push brings the new commit into the history within seconds', async () => {
    const sha = repo.head();
    const push = githubPush(sha);
    const started = Date.now();
    const res = await fetch(`${worker.url}/hooks/github`, { method: 'POST', body: push.body, headers: push.headers });
    assert.equal(res.status, 202);
    const entries = await waitFor(
      'commit in history',
      async () => {
        const h = await history();
        return h.some((e) => e.commit === sha) && h;
      },
      10_000,
    );
    assert.ok(Date.now() - started < 5000, 'the webhook should not wait for the hour-long poll');
    assert.deepEqual(
      entries.map((e) => e.revision),
      [1, 2],
    );
  });

  test('get ds prints kubectl columns and rollout status ends successfully', async () => {
    const status = await cli(['rollout', 'status', 'ds/agent', '--timeout', '30s']);
    assert.match(status.stdout, /daemon set "agent" successfully rolled out\n$/);
    const get = await cli(['get', 'ds']);
    const [header, row] = get.stdout.split('\n');
    assert.match(header!, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE$/);
    assert.match(row!, /^agent\s+3\s+3\s+3\s+3\s+3\s+<none>\s+\S+$/);
  });

  test('metrics have dsctl_ series', async () => {
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    for (const name of [
      'dsctl_node_updates_total',
      'dsctl_queue_jobs',
      'dsctl_webhooks_total',
      'dsctl_rollout_nodes',
      'dsctl_git_polls_total',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
  });

  test('mutations and the queue dashboard need the token', async () => {
    const url = `${worker.url}/api/v1/namespaces/default/daemonsets/agent/pause`;
    assert.equal((await fetch(url, { method: 'POST' })).status, 401);
    assert.equal((await fetch(`${worker.url}/admin/queues`)).status, 401);
    const ok = await fetch(`${worker.url}/admin/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<html/i);
    await assert.rejects(cli(['rollout', 'pause', 'ds/agent']), /DSCTL_TOKEN/);
    const paused = await cli(['rollout', 'pause', 'ds/agent'], { DSCTL_TOKEN: TOKEN });
    assert.match(paused.stdout, /daemonset.apps\/agent paused/);
  });
});
