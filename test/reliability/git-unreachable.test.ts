/**
 * Reliability (issue 7): the Git repository goes away mid-life. The worker follows a bare remote
 * directory; the test renames it (pushing nothing), then moves it back and pushes a new commit.
 *
 * While the repository is unreachable: the worker keeps serving, the API shows a
 * `SourceFetchFailed` condition whose message is sanitized (one line, bounded, no credential),
 * and nothing moves: same revision, same history, same pods (not one deleted or created), for
 * every DaemonSet. Once it is back, a push (signed webhook) brings the new commit, which rolls
 * out within the budget, and the condition clears.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { renameSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { WorkerHandle } from '../../src/worker/main.js';
import { commitFiles, makeBareRemote, makeRepo, push, removeTempDirs, tempDir, type TestRepo } from '../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../helpers/redis.js';
import { daemonSetYaml, getDaemonSet, sleep, startTestWorker, timeline, waitFor } from '../helpers/worker.js';
import { assertDrillOutcome, assertServing, condition, history, pods, waitRolledOut } from './support.js';

const SECRET = 'webhook-secret-git-unreachable';
const GIT_TOKEN = 'ghp_SuperSecretToken1234567890';
const AGENT = 'default/agent';
const OTHER = 'infra/other';

describe('Git repository unreachable', { timeout: 120_000 }, () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('git-unreachable');
  let work: TestRepo;
  let remote: TestRepo;
  let worker: WorkerHandle;
  let away: string;
  /** Filled by the "back" test for the backoff check. */
  let comeback: { requestedAt: number; nextRetryAt: number; syncedAt: number } | undefined;

  const agent = (image: string) => daemonSetYaml({ image, maxUnavailable: 1 });
  const other = daemonSetYaml({ name: 'other', namespace: 'infra', image: 'registry.example/other:1.0' });
  const signedPush = async (after: string, id: string) => {
    const body = JSON.stringify({ ref: 'refs/heads/main', after, repository: 'acme/daemonsets' });
    return fetch(`${worker.url}/hooks/generic`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-delivery-id': id,
        'x-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
    });
  };

  before(async () => {
    work = makeRepo();
    remote = makeBareRemote();
    away = `${remote.dir}.away`;
    commitFiles(work, { 'agent.yaml': agent('registry.example/agent:1.0'), 'infra/other.yaml': other }, 'v1');
    push(work, remote);
    worker = await startTestWorker({
      repo: remote.dir,
      dataDir: tempDir('dsctl-data'),
      prefix,
      fleet: 'sim:5',
      simStartDelay: '150ms',
      pollInterval: '300ms',
      lockDuration: '2s',
      webhookSecret: SECRET,
      gitToken: GIT_TOKEN,
    });
    await waitRolledOut(worker.url, 'default', 'agent', 1, 30_000);
    await waitRolledOut(worker.url, 'infra', 'other', 1, 30_000);
  });

  after(async () => {
    try {
      renameSync(away, remote.dir);
    } catch {
      // already back
    }
    await worker?.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  test('moved away: SourceFetchFailed with a sanitized message; nothing in the fleet moves', async (t) => {
    const before = {
      agent: await history(worker.url, 'default', 'agent'),
      other: await history(worker.url, 'infra', 'other'),
      pods: (await pods(worker.url, AGENT)).concat(await pods(worker.url, OTHER)),
      lastEntry: (await timeline(worker.url)).at(-1)!,
    };
    renameSync(remote.dir, away);
    const movedAt = Date.now();

    const failed = await waitFor(
      'SourceFetchFailed on the DaemonSet',
      async () => {
        const c = condition(await getDaemonSet(worker.url, 'default', 'agent'), 'SourceFetchFailed');
        return c?.status === 'True' && c;
      },
      10_000,
      100,
    );
    t.diagnostic(`condition after ${Date.now() - movedAt} ms: ${failed.reason}: ${failed.message}`);
    assert.equal(failed.reason, 'FetchFailed');
    // What the user reads: which repository, what git said, that it retries; nothing else.
    assert.ok(failed.message.includes(remote.dir), `the message does not name the repository: ${failed.message}`);
    assert.match(failed.message, /retrying with backoff/);
    assert.doesNotMatch(failed.message, /[\r\n\t]/, 'a multi-line message');
    assert.ok(failed.message.length <= 600, `a ${failed.message.length}-character message`);
    for (const secret of [GIT_TOKEN, SECRET, Buffer.from(`x-access-token:${GIT_TOKEN}`).toString('base64')]) {
      assert.ok(!failed.message.includes(secret), 'a credential in the condition message');
    }
    assert.doesNotMatch(failed.message, /authorization|extraheader|\bat \w+ \(/i, 'headers or a stack trace');
    // The other DaemonSet shows it too (the source is shared).
    assert.equal(condition(await getDaemonSet(worker.url, 'infra', 'other'), 'SourceFetchFailed')?.status, 'True');

    // A sync asked for meanwhile (a push webhook) is accepted, and changes nothing either.
    assert.equal((await signedPush('0123456789abcdef0123456789abcdef01234567', 'during-outage')).status, 202);
    await sleep(1500); // several polls while unreachable
    await assertServing(worker.url);
    assert.equal((await fetch(`${worker.url}/readyz`)).status, 200);

    const view = (await getDaemonSet(worker.url, 'default', 'agent'))!;
    assert.equal(view.status.updateRevisionNumber, 1, 'the last good revision changed');
    assert.deepEqual(await history(worker.url, 'default', 'agent'), before.agent);
    assert.deepEqual(await history(worker.url, 'infra', 'other'), before.other);
    const podsNow = (await pods(worker.url, AGENT)).concat(await pods(worker.url, OTHER));
    assert.deepEqual(
      podsNow.map((p) => `${p.daemonSet} ${p.node} ${p.name} ${p.revision} ${p.ready}`).sort(),
      before.pods.map((p) => `${p.daemonSet} ${p.node} ${p.name} ${p.revision} ${p.ready}`).sort(),
      'pods changed while the repository was unreachable',
    );
    const since = (await timeline(worker.url)).filter((e) => e.id > before.lastEntry.id);
    assert.deepEqual(since, [], 'pod transitions while the repository was unreachable');
  });

  test('moved back and pushed: the new commit rolls out and the condition clears', async (t) => {
    renameSync(away, remote.dir);
    const sha = commitFiles(work, { 'agent.yaml': agent('registry.example/agent:2.0') }, 'v2');
    push(work, remote);
    const status = JSON.parse((await redis.get(`{${prefix}}:git:status`)) ?? '{}') as { nextRetryAt?: number };
    const requestedAt = Date.now();
    const res = await signedPush(sha, 'after-outage');
    assert.equal(res.status, 202);
    await waitFor(
      'revision 2 in the history',
      async () => (await history(worker.url, 'default', 'agent')).length === 2,
      30_000,
      50,
    );
    comeback = { requestedAt, nextRetryAt: status.nextRetryAt ?? 0, syncedAt: Date.now() };
    const view = await waitRolledOut(worker.url, 'default', 'agent', 2, 30_000);
    t.diagnostic(
      `synced ${comeback.syncedAt - requestedAt} ms after the push (backoff ended ${comeback.nextRetryAt - requestedAt} ms after it)`,
    );
    const cleared = await waitFor(
      'SourceFetchFailed cleared',
      async () => {
        const v = await getDaemonSet(worker.url, 'default', 'agent');
        return v && condition(v, 'SourceFetchFailed') === undefined && v;
      },
      10_000,
    );
    assert.equal(cleared.status.updateRevisionNumber, 2);
    assert.equal(view.status.numberAvailable, 5);
    await assertDrillOutcome(worker.url, AGENT, { maxUnavailable: 1 });
    await assertDrillOutcome(worker.url, OTHER, { maxUnavailable: 1 });
    assert.deepEqual(
      (await timeline(worker.url)).filter((e) => e.daemonSet === OTHER && e.event === 'deleted'),
      [],
      'the unchanged DaemonSet lost pods',
    );
  });

  test('a push webhook after the outage fetches at once instead of waiting out the fetch backoff', () => {
    assert.ok(comeback, 'the previous test did not get that far');
    if (comeback.nextRetryAt - comeback.requestedAt < 1500) {
      // The backoff was nearly over anyway: nothing to tell apart.
      return;
    }
    assert.ok(
      comeback.syncedAt < comeback.nextRetryAt,
      `the pushed commit was synced only ${comeback.syncedAt - comeback.requestedAt} ms after the webhook, once the ` +
        `backoff (${comeback.nextRetryAt - comeback.requestedAt} ms) was over: webhook syncs do not force the fetch`,
    );
  });
});
