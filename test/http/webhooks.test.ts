import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hmacSha256Hex } from '../../src/http/verify-signature.js';
import { matchesRepo, normalizeRepoUrl, parseWebhookDelivery } from '../../src/http/webhook-payload.js';
import { testServer } from './server-fixture.js';

const SECRET = 'webhook-s3cret';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const REPO = {
  cloneUrls: ['https://github.com/acme/fleet-config.git', 'git@github.com:acme/fleet-config.git'],
  fullNames: ['acme/fleet-config'],
};

type Provider = 'github' | 'gitlab' | 'gitea' | 'generic';

/** A push payload in each provider's shape. */
function pushPayload(provider: Provider, opts: { ref?: string; repo?: string; after?: string } = {}) {
  const ref = opts.ref ?? 'refs/heads/main';
  const after = opts.after ?? SHA;
  const fullName = opts.repo ?? 'acme/fleet-config';
  switch (provider) {
    case 'github':
    case 'gitea':
      return {
        ref,
        before: '1'.repeat(40),
        after,
        repository: {
          full_name: fullName,
          clone_url: `https://github.com/${fullName}.git`,
          ssh_url: `git@github.com:${fullName}.git`,
          html_url: `https://github.com/${fullName}`,
        },
      };
    case 'gitlab':
      return {
        object_kind: 'push',
        ref,
        after,
        project: {
          path_with_namespace: fullName,
          git_http_url: `https://github.com/${fullName}.git`,
          git_ssh_url: `git@github.com:${fullName}.git`,
        },
      };
    case 'generic':
      return { ref, after, repository: { url: `https://github.com/${fullName}.git`, full_name: fullName } };
  }
}

/** Headers that authenticate `body` for `provider`, plus event and delivery headers. */
function signedHeaders(
  provider: Provider,
  body: string,
  opts: { secret?: string; delivery?: string; event?: string } = {},
) {
  const secret = opts.secret ?? SECRET;
  const sig = hmacSha256Hex(secret, body);
  const delivery = opts.delivery ?? `d-${Math.random().toString(16).slice(2)}`;
  const h: Record<string, string> = { 'content-type': 'application/json' };
  switch (provider) {
    case 'github':
      h['x-hub-signature-256'] = `sha256=${sig}`;
      h['x-github-event'] = opts.event ?? 'push';
      h['x-github-delivery'] = delivery;
      break;
    case 'gitea':
      h['x-gitea-signature'] = sig;
      h['x-gitea-event'] = opts.event ?? 'push';
      h['x-github-event'] = opts.event ?? 'push';
      h['x-gitea-delivery'] = delivery;
      break;
    case 'gitlab':
      h['x-gitlab-token'] = secret;
      h['x-gitlab-event'] = opts.event ?? 'Push Hook';
      h['x-gitlab-event-uuid'] = delivery;
      break;
    case 'generic':
      h['x-signature-256'] = `sha256=${sig}`;
      h['x-delivery-id'] = delivery;
      break;
  }
  return h;
}

async function server() {
  return testServer({ webhookSecret: SECRET, webhookRepo: REPO });
}

const PROVIDERS: Provider[] = ['github', 'gitlab', 'gitea', 'generic'];

for (const provider of PROVIDERS) {
  test(`${provider}: a signed push to the branch answers 202 and requests a sync with the commit`, async () => {
    const { app, cp, metrics } = await server();
    const body = JSON.stringify(pushPayload(provider));
    const headers = signedHeaders(provider, body, { delivery: 'delivery-1' });
    const res = await app.inject({ method: 'POST', url: `/hooks/${provider}`, headers, payload: body });
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: true, deliveryId: 'delivery-1', commit: SHA });
    assert.deepEqual(cp.syncRequests, [{ reason: 'webhook', commit: SHA, deliveryId: 'delivery-1' }]);
    const text = await metrics.exposition();
    assert.match(text, new RegExp(`dsctl_webhooks_total\\{provider="${provider}",result="accepted"\\} 1`));
  });

  test(`${provider}: a wrong or missing signature is 401 and requests nothing`, async () => {
    const { app, cp, metrics } = await server();
    const body = JSON.stringify(pushPayload(provider));
    const wrong = signedHeaders(provider, body, { secret: 'not-the-secret' });
    const r1 = await app.inject({ method: 'POST', url: `/hooks/${provider}`, headers: wrong, payload: body });
    assert.equal(r1.statusCode, 401);
    assert.equal(r1.json().error, 'Unauthorized');
    const missing = { 'content-type': 'application/json', 'x-github-event': 'push' };
    const r2 = await app.inject({ method: 'POST', url: `/hooks/${provider}`, headers: missing, payload: body });
    assert.equal(r2.statusCode, 401);
    // Signed over other bytes than those sent (re-serialised JSON is not the same body).
    const signedOther = signedHeaders(provider, JSON.stringify(pushPayload(provider), null, 2));
    const r3 = await app.inject({ method: 'POST', url: `/hooks/${provider}`, headers: signedOther, payload: body });
    assert.equal(r3.statusCode, provider === 'gitlab' ? 202 : 401, 'GitLab tokens do not cover the body');
    assert.equal(cp.syncRequests.length, provider === 'gitlab' ? 1 : 0);
    const text = await metrics.exposition();
    const unauthorized = provider === 'gitlab' ? 2 : 3;
    assert.match(
      text,
      new RegExp(`dsctl_webhooks_total\\{provider="${provider}",result="unauthorized"\\} ${unauthorized}`),
    );
  });

  test(`${provider}: pushes to another branch or another repository are ignored`, async () => {
    const { app, cp } = await server();
    for (const payload of [
      pushPayload(provider, { ref: 'refs/heads/dev' }),
      pushPayload(provider, { ref: 'refs/tags/v1' }),
      pushPayload(provider, { repo: 'evil/fleet-config' }),
      pushPayload(provider, { after: '0'.repeat(40) }),
    ]) {
      const body = JSON.stringify(payload);
      const res = await app.inject({
        method: 'POST',
        url: `/hooks/${provider}`,
        headers: signedHeaders(provider, body),
        payload: body,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().ignored, true);
      assert.equal(typeof res.json().reason, 'string');
    }
    assert.equal(cp.syncRequests.length, 0);
  });

  test(`${provider}: a redelivery with the same delivery id is answered as a duplicate`, async () => {
    const { app, cp } = await server();
    const body = JSON.stringify(pushPayload(provider));
    const headers = signedHeaders(provider, body, { delivery: 'same-id' });
    const first = await app.inject({ method: 'POST', url: `/hooks/${provider}`, headers, payload: body });
    assert.equal(first.statusCode, 202);
    const second = await app.inject({ method: 'POST', url: `/hooks/${provider}`, headers, payload: body });
    assert.equal(second.statusCode, 200);
    assert.deepEqual(second.json(), { duplicate: true, deliveryId: 'same-id' });
    assert.equal(cp.syncRequests.length, 1);
  });

  test(`${provider}: a body over the limit is 413 and requests nothing`, async () => {
    const { app, cp } = await testServer({ webhookSecret: SECRET, bodyLimitBytes: 1024 });
    const body = JSON.stringify({ ...pushPayload(provider), padding: 'x'.repeat(2048) });
    const res = await app.inject({
      method: 'POST',
      url: `/hooks/${provider}`,
      headers: signedHeaders(provider, body),
      payload: body,
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error, 'RequestEntityTooLarge');
    assert.equal(cp.syncRequests.length, 0);
  });

  test(`${provider}: without a secret webhooks are disabled`, async () => {
    const { app, cp } = await testServer();
    const body = JSON.stringify(pushPayload(provider));
    const res = await app.inject({
      method: 'POST',
      url: `/hooks/${provider}`,
      headers: signedHeaders(provider, body),
      payload: body,
    });
    assert.equal(res.statusCode, 404);
    assert.match(res.json().message, /webhooks are disabled/);
    assert.equal(cp.syncRequests.length, 0);
  });
}

test('ping events answer 200 { ok: true, event: "ping" }', async () => {
  const { app, cp, metrics } = await server();
  const gh = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
  const r1 = await app.inject({
    method: 'POST',
    url: '/hooks/github',
    headers: signedHeaders('github', gh, { event: 'ping' }),
    payload: gh,
  });
  assert.equal(r1.statusCode, 200);
  assert.deepEqual(r1.json(), { ok: true, event: 'ping' });
  const gitea = JSON.stringify({ hook_id: 1 });
  const r2 = await app.inject({
    method: 'POST',
    url: '/hooks/gitea',
    headers: signedHeaders('gitea', gitea, { event: 'ping' }),
    payload: gitea,
  });
  assert.deepEqual(r2.json(), { ok: true, event: 'ping' });
  const generic = JSON.stringify({ zen: 'hello' });
  const r3 = await app.inject({
    method: 'POST',
    url: '/hooks/generic',
    headers: signedHeaders('generic', generic),
    payload: generic,
  });
  assert.deepEqual(r3.json(), { ok: true, event: 'ping' });
  const noRef = JSON.stringify({});
  const r4 = await app.inject({
    method: 'POST',
    url: '/hooks/generic',
    headers: signedHeaders('generic', noRef),
    payload: noRef,
  });
  assert.deepEqual(r4.json(), { ok: true, event: 'ping' });
  // A ping with a bad signature is still refused.
  const r5 = await app.inject({
    method: 'POST',
    url: '/hooks/github',
    headers: { ...signedHeaders('github', gh, { event: 'ping' }), 'x-hub-signature-256': 'sha256=00' },
    payload: gh,
  });
  assert.equal(r5.statusCode, 401);
  assert.equal(cp.syncRequests.length, 0);
  assert.match(await metrics.exposition(), /dsctl_webhooks_total\{provider="github",result="ping"\} 1/);
});

test('non-push events are ignored', async () => {
  const { app, cp } = await server();
  const body = JSON.stringify({ action: 'opened' });
  const gh = await app.inject({
    method: 'POST',
    url: '/hooks/github',
    headers: signedHeaders('github', body, { event: 'pull_request' }),
    payload: body,
  });
  assert.deepEqual(gh.json(), { ignored: true, reason: 'event "pull_request" is not a push' });
  const gl = await app.inject({
    method: 'POST',
    url: '/hooks/gitlab',
    headers: signedHeaders('gitlab', body, { event: 'Tag Push Hook' }),
    payload: body,
  });
  assert.equal(gl.json().ignored, true);
  assert.equal(cp.syncRequests.length, 0);
});

test('GitHub form-encoded deliveries are verified over the raw form body', async () => {
  const { app, cp } = await server();
  const body = `payload=${encodeURIComponent(JSON.stringify(pushPayload('github')))}`;
  const headers = { ...signedHeaders('github', body), 'content-type': 'application/x-www-form-urlencoded' };
  const res = await app.inject({ method: 'POST', url: '/hooks/github', headers, payload: body });
  assert.equal(res.statusCode, 202, res.body);
  assert.equal(cp.syncRequests[0]!.commit, SHA);
});

test('an authenticated body that is not JSON is 400 invalid', async () => {
  const { app, cp, metrics } = await server();
  const body = '{not json';
  const res = await app.inject({
    method: 'POST',
    url: '/hooks/generic',
    headers: signedHeaders('generic', body),
    payload: body,
  });
  assert.equal(res.statusCode, 400);
  assert.equal(cp.syncRequests.length, 0);
  assert.match(await metrics.exposition(), /dsctl_webhooks_total\{provider="generic",result="invalid"\} 1/);
});

test('when enqueueing the sync fails the sender gets 503 and may redeliver the same id', async () => {
  const { app, cp } = await server();
  const body = JSON.stringify(pushPayload('github'));
  const headers = signedHeaders('github', body, { delivery: 'retry-me' });
  cp.failSync = true;
  const first = await app.inject({ method: 'POST', url: '/hooks/github', headers, payload: body });
  assert.equal(first.statusCode, 503);
  assert.doesNotMatch(first.body, /redis/);
  cp.failSync = false;
  const second = await app.inject({ method: 'POST', url: '/hooks/github', headers, payload: body });
  assert.equal(second.statusCode, 202);
  assert.equal(cp.syncRequests.length, 1);
});

test('without a configured repository any repository matches (the branch still must)', async () => {
  const { app, cp } = await testServer({ webhookSecret: SECRET });
  const body = JSON.stringify(pushPayload('github', { repo: 'someone/else' }));
  const res = await app.inject({
    method: 'POST',
    url: '/hooks/github',
    headers: signedHeaders('github', body),
    payload: body,
  });
  assert.equal(res.statusCode, 202);
  assert.equal(cp.syncRequests.length, 1);
});

test('generic deliveries accept a repository string', async () => {
  const { app, cp } = await server();
  const body = JSON.stringify({
    ref: 'refs/heads/main',
    after: SHA,
    repository: 'https://GitHub.com/acme/fleet-config/',
  });
  const res = await app.inject({
    method: 'POST',
    url: '/hooks/generic',
    headers: signedHeaders('generic', body),
    payload: body,
  });
  assert.equal(res.statusCode, 202, res.body);
  const byName = JSON.stringify({ ref: 'refs/heads/main', after: SHA, repository: 'acme/fleet-config' });
  const res2 = await app.inject({
    method: 'POST',
    url: '/hooks/generic',
    headers: signedHeaders('generic', byName),
    payload: byName,
  });
  assert.equal(res2.statusCode, 202, res2.body);
  assert.equal(cp.syncRequests.length, 2);
});

test('normalizeRepoUrl drops scheme, credentials, port, .git, trailing slash and case', () => {
  const want = 'github.com/acme/fleet-config';
  for (const u of [
    'https://github.com/acme/fleet-config.git',
    'https://user:token@GitHub.com/acme/fleet-config.git/',
    'https://x-access-token@github.com/Acme/Fleet-Config',
    'ssh://git@github.com:22/acme/fleet-config.git',
    'git@github.com:acme/fleet-config.git',
    'http://github.com:80/acme/fleet-config/',
  ]) {
    assert.equal(normalizeRepoUrl(u), want, u);
  }
  assert.notEqual(normalizeRepoUrl('https://gitlab.com/acme/fleet-config.git'), want);
  assert.equal(normalizeRepoUrl('/srv/git/fleet.git/'), '/srv/git/fleet'.replace(/^\//, ''));
});

test('matchesRepo compares normalised URLs or full names', () => {
  assert.equal(matchesRepo({ repoUrls: ['git@github.com:acme/fleet-config.git'], repoFullNames: [] }, REPO), true);
  assert.equal(matchesRepo({ repoUrls: [], repoFullNames: ['ACME/fleet-config'] }, REPO), true);
  assert.equal(
    matchesRepo({ repoUrls: ['https://github.com/acme/other.git'], repoFullNames: ['acme/other'] }, REPO),
    false,
  );
  assert.equal(matchesRepo({ repoUrls: [], repoFullNames: [] }, REPO), false);
  assert.equal(matchesRepo({ repoUrls: [], repoFullNames: [] }, undefined), true);
});

test('parseWebhookDelivery reads GitLab project fields', () => {
  const d = parseWebhookDelivery('gitlab', { 'x-gitlab-event': 'Push Hook' }, pushPayload('gitlab'));
  assert.equal(d.kind, 'push');
  assert.equal(d.ref, 'refs/heads/main');
  assert.deepEqual(d.repoFullNames, ['acme/fleet-config']);
  assert.ok(d.repoUrls.includes('git@github.com:acme/fleet-config.git'));
});
