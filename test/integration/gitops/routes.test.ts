/** The Git-write routes over HTTP (fastify inject): auth, 501 without Git access, body checks, error mapping. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { buildServer } from '../../../src/http/server.js';
import { createLogger } from '../../../src/observability/logger.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { GitPushRejectedError, RevisionNotFoundError } from '../../../src/gitops/errors.js';
import type { ChangeResult, GitOpsApi } from '../../../src/gitops/types.js';
import { FakeControlPlane } from '../../helpers/fake-control-plane.js';

const TOKEN = 'api-token';

class GitOpsFake extends FakeControlPlane {
  calls: unknown[] = [];
  readonly gitOps: GitOpsApi = {
    rollback: async (ref, request) => {
      this.calls.push({ ref, request });
      if (request.toRevision === 9) throw new RevisionNotFoundError(9, [1, 2]);
      if (request.toRevision === 8)
        throw new GitPushRejectedError('/srv/repo.git', 'pre-receive hook declined', 'PATCH');
      return { outcome: 'committed', message: `daemonset.apps/${ref.name} rolled back`, commit: 'abc' } as ChangeResult;
    },
    setImage: async (ref, request) => {
      this.calls.push({ ref, request });
      return { outcome: 'dry-run', message: `daemonset.apps/${ref.name} image updated (dry run)` };
    },
    setPaused: async (ref, request) => {
      this.calls.push({ ref, request });
      return { outcome: 'committed', message: `daemonset.apps/${ref.name} paused` };
    },
  };
}

function server(cp: FakeControlPlane) {
  return buildServer({
    controlPlane: cp,
    token: TOKEN,
    branch: 'main',
    metrics: new Metrics({ collectDefault: false }),
    logger: createLogger({ level: 'silent' }),
  });
}

describe('Git-write routes', () => {
  const cp = new GitOpsFake();
  const app = server(cp);
  const bare = server(new FakeControlPlane());
  const base = '/api/v1/namespaces/kube-system/daemonsets/fluentd';
  const auth = { authorization: `Bearer ${TOKEN}` };

  after(async () => {
    await app.close();
    await bare.close();
  });

  test('they are mutations: no token, no change', async () => {
    const res = await app.inject({ method: 'POST', url: `${base}/rollback`, payload: {} });
    assert.equal(res.statusCode, 401);
    assert.equal(cp.calls.length, 0);
  });

  test('rollback, image and paused reach the Git side with the parsed body', async () => {
    const r = await app.inject({ method: 'POST', url: `${base}/rollback`, headers: auth, payload: { toRevision: 2 } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json<ChangeResult>().message, 'daemonset.apps/fluentd rolled back');
    const i = await app.inject({
      method: 'POST',
      url: `${base}/image`,
      headers: auth,
      payload: { images: { fluentd: 'fluentd:2' }, dryRun: true },
    });
    assert.equal(i.statusCode, 200);
    const p = await app.inject({ method: 'POST', url: `${base}/paused`, headers: auth, payload: { paused: true } });
    assert.equal(p.statusCode, 200);
    assert.deepEqual(cp.calls, [
      { ref: { namespace: 'kube-system', name: 'fluentd' }, request: { toRevision: 2 } },
      {
        ref: { namespace: 'kube-system', name: 'fluentd' },
        request: { images: { fluentd: 'fluentd:2' }, dryRun: true },
      },
      { ref: { namespace: 'kube-system', name: 'fluentd' }, request: { paused: true } },
    ]);
  });

  test('bad bodies are 400 and reach nothing', async () => {
    const before = cp.calls.length;
    for (const [route, payload] of [
      ['rollback', { toRevision: -1 }],
      ['rollback', { toRevision: 1, force: true }],
      ['image', { images: {} }],
      ['image', { images: { 'Bad Name': 'x' } }],
      ['paused', {}],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: `${base}/${route}`, headers: auth, payload });
      assert.equal(res.statusCode, 400, `${route} ${JSON.stringify(payload)}: ${res.body}`);
    }
    assert.equal(cp.calls.length, before);
  });

  test('errors map to statuses with their message', async () => {
    const notFound = await app.inject({
      method: 'POST',
      url: `${base}/rollback`,
      headers: auth,
      payload: { toRevision: 9 },
    });
    assert.equal(notFound.statusCode, 404);
    assert.deepEqual(notFound.json(), {
      error: 'RevisionNotFound',
      message: 'unable to find specified revision 9 in history (revisions: 1, 2)',
    });
    const refused = await app.inject({
      method: 'POST',
      url: `${base}/rollback`,
      headers: auth,
      payload: { toRevision: 8 },
    });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json<{ error: string }>().error, 'GitPushRejected');
    assert.match(refused.json<{ message: string }>().message, /git am[\s\S]*PATCH$/);
  });

  test('a control plane without Git access answers 501', async () => {
    const res = await bare.inject({ method: 'POST', url: `${base}/rollback`, headers: auth, payload: {} });
    assert.equal(res.statusCode, 501);
    assert.equal(res.json<{ error: string }>().error, 'NotImplemented');
  });
});
