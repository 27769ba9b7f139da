import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testServer } from './server-fixture.js';

const LOCAL = { remoteAddress: '127.0.0.1' };
const REMOTE = { remoteAddress: '203.0.113.7' };

test('GET /healthz answers 200 while the process serves', async () => {
  const { app } = await testServer();
  const res = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { status: 'ok' });
});

test('GET /readyz follows controlPlane.ready()', async () => {
  const { app, cp } = await testServer();
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  cp.isReady = false;
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(res.statusCode, 503);
  assert.deepEqual(res.json(), { status: 'not ready' });
  cp.ready = async () => {
    throw new Error('redis down');
  };
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
});

test('GET /api/v1/daemonsets lists all DaemonSets, or one namespace', async () => {
  const { app } = await testServer();
  const all = await app.inject({ method: 'GET', url: '/api/v1/daemonsets' });
  assert.equal(all.statusCode, 200);
  assert.deepEqual(
    all.json().map((d: { metadata: { name: string } }) => d.metadata.name),
    ['fluentd', 'node-exporter'],
  );
  const ks = await app.inject({ method: 'GET', url: '/api/v1/daemonsets?namespace=kube-system' });
  assert.deepEqual(
    ks.json().map((d: { metadata: { name: string } }) => d.metadata.name),
    ['fluentd'],
  );
  const nsRoute = await app.inject({ method: 'GET', url: '/api/v1/namespaces/default/daemonsets' });
  assert.deepEqual(
    nsRoute.json().map((d: { metadata: { name: string } }) => d.metadata.name),
    ['node-exporter'],
  );
});

test('GET one DaemonSet returns the view; an unknown one is a 404 with a hint', async () => {
  const { app } = await testServer();
  const res = await app.inject({ method: 'GET', url: '/api/v1/namespaces/kube-system/daemonsets/fluentd' });
  assert.equal(res.statusCode, 200);
  const view = res.json();
  assert.equal(view.kind, 'DaemonSet');
  assert.equal(view.status.desiredNumberScheduled, 5);

  const wrongNs = await app.inject({ method: 'GET', url: '/api/v1/namespaces/default/daemonsets/fluentd' });
  assert.equal(wrongNs.statusCode, 404);
  assert.equal(wrongNs.json().error, 'NotFound');
  assert.match(wrongNs.json().message, /^daemonsets\.apps "fluentd" not found in namespace "default"/);
  assert.match(wrongNs.json().message, /exists in namespace "kube-system"/);

  const none = await app.inject({ method: 'GET', url: '/api/v1/namespaces/empty/daemonsets/x' });
  assert.match(none.json().message, /no DaemonSets in namespace "empty"/);
});

test('GET history passes all=true and 404s for unknown DaemonSets', async () => {
  const { app, cp } = await testServer();
  const res = await app.inject({ method: 'GET', url: '/api/v1/namespaces/kube-system/daemonsets/fluentd/history' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json()[0].revision, 1);
  await app.inject({ method: 'GET', url: '/api/v1/namespaces/kube-system/daemonsets/fluentd/history?all=true' });
  assert.deepEqual(
    cp.historyQueries.map((q) => q.all),
    [false, true],
  );
  const bad = await app.inject({
    method: 'GET',
    url: '/api/v1/namespaces/kube-system/daemonsets/fluentd/history?all=x',
  });
  assert.equal(bad.statusCode, 400);
  const unknown = await app.inject({ method: 'GET', url: '/api/v1/namespaces/kube-system/daemonsets/nope/history' });
  assert.equal(unknown.statusCode, 404);
});

test('GET events returns the events of a DaemonSet; 404 when unknown', async () => {
  const { app } = await testServer();
  const res = await app.inject({ method: 'GET', url: '/api/v1/namespaces/kube-system/daemonsets/fluentd/events' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json()[0].reason, 'SuccessfulCreate');
  const unknown = await app.inject({ method: 'GET', url: '/api/v1/namespaces/kube-system/daemonsets/nope/events' });
  assert.equal(unknown.statusCode, 404);
});

test('GET /api/v1/nodes and /api/v1/pods with filters', async () => {
  const { app, cp } = await testServer();
  const nodes = await app.inject({ method: 'GET', url: '/api/v1/nodes' });
  assert.deepEqual(
    nodes.json().map((n: { name: string }) => n.name),
    ['node-1', 'node-2'],
  );
  const pods = await app.inject({ method: 'GET', url: '/api/v1/pods' });
  assert.equal(pods.json().length, 3);
  const filtered = await app.inject({ method: 'GET', url: '/api/v1/pods?namespace=kube-system&daemonSet=fluentd' });
  assert.equal(filtered.json().length, 2);
  assert.deepEqual(cp.podQueries.at(-1), { namespace: 'kube-system', daemonSet: 'fluentd' });
  const nsPods = await app.inject({ method: 'GET', url: '/api/v1/namespaces/default/pods' });
  assert.equal(nsPods.json().length, 1);
});

test('GET /api/v1/sim/timeline returns the array and passes the query', async () => {
  const { app, cp } = await testServer();
  const all = await app.inject({ method: 'GET', url: '/api/v1/sim/timeline' });
  assert.equal(all.statusCode, 200);
  assert.ok(Array.isArray(all.json()));
  assert.deepEqual(Object.keys(all.json()[0]).sort(), ['daemonSet', 'event', 'id', 'node', 'pod', 'revision', 'ts']);
  const since = await app.inject({ method: 'GET', url: '/api/v1/sim/timeline?sinceTs=200&limit=1' });
  assert.deepEqual(
    since.json().map((e: { id: string }) => e.id),
    ['2-0'],
  );
  assert.deepEqual(cp.timelineQueries.at(-1), { sinceTs: 200, limit: 1 });
  const after = await app.inject({ method: 'GET', url: '/api/v1/sim/timeline?afterId=1-0' });
  assert.deepEqual(
    after.json().map((e: { id: string }) => e.id),
    ['2-0', '3-0'],
  );
  const bad = await app.inject({ method: 'GET', url: '/api/v1/sim/timeline?limit=-3' });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error, 'BadRequest');
  assert.ok(Array.isArray(bad.json().issues));
});

test('mutations from loopback work without a token', async () => {
  const { app, cp } = await testServer();
  const del = await app.inject({
    method: 'DELETE',
    url: '/api/v1/namespaces/kube-system/pods/fluentd-aaaaa',
    ...LOCAL,
  });
  assert.equal(del.statusCode, 200);
  assert.equal(cp.pods.length, 2);
  const again = await app.inject({
    method: 'DELETE',
    url: '/api/v1/namespaces/kube-system/pods/fluentd-aaaaa',
    ...LOCAL,
  });
  assert.equal(again.statusCode, 404);
  assert.equal(again.json().message, 'pods "fluentd-aaaaa" not found in namespace "kube-system"');

  const pause = await app.inject({
    method: 'POST',
    url: '/api/v1/namespaces/kube-system/daemonsets/fluentd/pause',
    ...LOCAL,
  });
  assert.equal(pause.statusCode, 200);
  assert.equal(cp.daemonSets[0]!.status.paused, true);
  const resume = await app.inject({
    method: 'POST',
    url: '/api/v1/namespaces/kube-system/daemonsets/fluentd/resume',
    ...LOCAL,
  });
  assert.equal(resume.statusCode, 200);
  assert.equal(cp.daemonSets[0]!.status.paused, false);
  const pauseUnknown = await app.inject({ method: 'POST', url: '/api/v1/namespaces/x/daemonsets/y/pause', ...LOCAL });
  assert.equal(pauseUnknown.statusCode, 404);

  const add = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes',
    payload: { name: 'node-3', labels: { zone: 'a' }, taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] },
    ...LOCAL,
  });
  assert.equal(add.statusCode, 201);
  assert.deepEqual(
    cp.nodes.map((n) => n.name),
    ['node-1', 'node-2', 'node-3'],
  );
  const notReady = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes/node-3/ready',
    payload: { ready: false },
    ...LOCAL,
  });
  assert.equal(notReady.statusCode, 200);
  assert.equal(cp.nodes.find((n) => n.name === 'node-3')!.ready, false);
  const readyUnknown = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes/node-9/ready',
    payload: { ready: true },
    ...LOCAL,
  });
  assert.equal(readyUnknown.statusCode, 404);
  const remove = await app.inject({ method: 'DELETE', url: '/api/v1/nodes/node-3', ...LOCAL });
  assert.equal(remove.statusCode, 200);
  const removeAgain = await app.inject({ method: 'DELETE', url: '/api/v1/nodes/node-3', ...LOCAL });
  assert.equal(removeAgain.statusCode, 404);

  const sync = await app.inject({ method: 'POST', url: '/api/v1/sync', ...LOCAL });
  assert.equal(sync.statusCode, 202);
  const syncJson = await app.inject({ method: 'POST', url: '/api/v1/sync', payload: {}, ...LOCAL });
  assert.equal(syncJson.statusCode, 202);
  assert.deepEqual(cp.syncRequests, [{ reason: 'api' }, { reason: 'api' }]);
});

test('bodies are validated with every issue listed (400)', async () => {
  const { app, cp } = await testServer();
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes',
    payload: { name: 'Bad Name', taints: [{ key: '', effect: 'Sometimes' }], extra: 1 },
    ...LOCAL,
  });
  assert.equal(res.statusCode, 400);
  const body = res.json();
  assert.equal(body.error, 'BadRequest');
  assert.ok(body.issues.length >= 3, JSON.stringify(body.issues));
  assert.equal(cp.nodes.length, 2);
  const ready = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes/node-1/ready',
    payload: { ready: 'no' },
    ...LOCAL,
  });
  assert.equal(ready.statusCode, 400);
  const badJson = await app.inject({
    method: 'POST',
    url: '/api/v1/nodes',
    headers: { 'content-type': 'application/json' },
    payload: '{"name":',
    ...LOCAL,
  });
  assert.equal(badJson.statusCode, 400);
  assert.equal(badJson.json().error, 'BadRequest');
});

test('without a token, non-loopback clients may read but not mutate (403, nothing changes)', async () => {
  const { app, cp } = await testServer();
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/daemonsets', ...REMOTE })).statusCode, 200);
  const calls = [
    { method: 'DELETE' as const, url: '/api/v1/namespaces/kube-system/pods/fluentd-aaaaa' },
    { method: 'POST' as const, url: '/api/v1/namespaces/kube-system/daemonsets/fluentd/pause' },
    { method: 'POST' as const, url: '/api/v1/nodes', payload: { name: 'node-9' } },
    { method: 'DELETE' as const, url: '/api/v1/nodes/node-1' },
    { method: 'POST' as const, url: '/api/v1/nodes/node-1/ready', payload: { ready: false } },
    { method: 'POST' as const, url: '/api/v1/sync' },
  ];
  for (const call of calls) {
    const res = await app.inject({ ...call, ...REMOTE });
    assert.equal(res.statusCode, 403, `${call.method} ${call.url}`);
    assert.equal(res.json().error, 'Forbidden');
    assert.match(res.json().message, /loopback/);
  }
  for (const ip of ['::1', '::ffff:127.0.0.1', '127.8.9.10']) {
    const res = await app.inject({ method: 'POST', url: '/api/v1/sync', remoteAddress: ip });
    assert.equal(res.statusCode, 202, ip);
  }
  assert.equal(cp.pods.length, 3);
  assert.equal(cp.daemonSets[0]!.status.paused, false);
  assert.equal(cp.nodes.length, 2);
  assert.equal(cp.nodes[0]!.ready, undefined);
  assert.equal(cp.syncRequests.length, 3);
});

test('with a token, mutations need the right bearer token, even from loopback (401 otherwise)', async () => {
  const { app, cp } = await testServer({ token: 't0ken' });
  const url = '/api/v1/namespaces/kube-system/pods/fluentd-aaaaa';
  const missing = await app.inject({ method: 'DELETE', url, ...LOCAL });
  assert.equal(missing.statusCode, 401);
  assert.equal(missing.headers['www-authenticate'], 'Bearer realm="dsctl"');
  assert.match(missing.json().message, /DSCTL_TOKEN/);
  const wrong = await app.inject({ method: 'DELETE', url, headers: { authorization: 'Bearer nope' }, ...LOCAL });
  assert.equal(wrong.statusCode, 401);
  const basic = await app.inject({ method: 'DELETE', url, headers: { authorization: 'Basic dDBrZW4=' }, ...LOCAL });
  assert.equal(basic.statusCode, 401);
  const prefix = await app.inject({ method: 'DELETE', url, headers: { authorization: 'Bearer t0ke' }, ...LOCAL });
  assert.equal(prefix.statusCode, 401);
  assert.equal(cp.pods.length, 3);
  const right = await app.inject({ method: 'DELETE', url, headers: { authorization: 'Bearer t0ken' }, ...REMOTE });
  assert.equal(right.statusCode, 200);
  assert.equal(cp.pods.length, 2);
  const lower = await app.inject({
    method: 'POST',
    url: '/api/v1/sync',
    headers: { authorization: 'bearer t0ken' },
    ...REMOTE,
  });
  assert.equal(lower.statusCode, 202);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/nodes', ...REMOTE })).statusCode, 200);
});

test('unknown routes and failures answer { error, message } without stack traces', async () => {
  const { app, cp } = await testServer();
  const missing = await app.inject({ method: 'GET', url: '/api/v1/nope' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error, 'NotFound');
  cp.listNodes = async () => {
    throw new Error('connect ECONNREFUSED redis://admin:hunter2@10.0.0.1:6379 at Object.<anonymous> (/x.js:1:1)');
  };
  const failed = await app.inject({ method: 'GET', url: '/api/v1/nodes' });
  assert.equal(failed.statusCode, 500);
  assert.deepEqual(Object.keys(failed.json()).sort(), ['error', 'message']);
  assert.doesNotMatch(failed.body, /hunter2|\.js:|ECONNREFUSED/);
  cp.listPods = async () => {
    throw Object.assign(new Error('add node: name: must be a DNS-style name'), { code: 'DSCTL_FLEET_INVALID_INPUT' });
  };
  const fleet = await app.inject({ method: 'GET', url: '/api/v1/pods' });
  assert.equal(fleet.statusCode, 400);
  assert.equal(fleet.json().message, 'add node: name: must be a DNS-style name');
  cp.listDaemonSets = async () => {
    throw Object.assign(new Error('git fetch https://user:pw@git.example.com/r.git failed'), {
      code: 'DSCTL_GIT_FETCH',
      retryable: true,
    });
  };
  const transient = await app.inject({ method: 'GET', url: '/api/v1/daemonsets' });
  assert.equal(transient.statusCode, 503);
  assert.equal(transient.json().message, 'git fetch https://git.example.com/r.git failed');
});

test('GET /metrics exposes dsctl_ series, including HTTP request counts', async () => {
  const { app, metrics } = await testServer();
  metrics.countWebhook('github', 'accepted');
  await app.inject({ method: 'GET', url: '/api/v1/nodes' });
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain/);
  assert.match(res.body, /dsctl_webhooks_total\{provider="github",result="accepted"\} 1/);
  assert.match(res.body, /dsctl_http_requests_total\{method="GET",route="\/api\/v1\/nodes",status="200"\} 1/);
});

test('extraRoutes can mount more routes (bull-board)', async () => {
  const { app } = await testServer({
    extraRoutes: (instance) => {
      instance.get('/admin/queues', async () => ({ board: true }));
    },
  });
  const res = await app.inject({ method: 'GET', url: '/admin/queues' });
  assert.deepEqual(res.json(), { board: true });
});
