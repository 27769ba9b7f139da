import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fetchHistory } from '../../src/cli/client.js';
import { makeDaemonSetView } from '../helpers/fake-control-plane.js';
import { runCli, startServer, type CliServer } from './cli-fixture.js';

describe('changes through the CLI (loopback, no token)', { concurrency: true }, () => {
  let server: CliServer;
  let env: Record<string, string>;

  before(async () => {
    server = await startServer();
    env = { DSCTL_SERVER: server.url };
    server.cp.daemonSets.push(makeDaemonSetView({ name: 'fluentd', namespace: 'kube-system' }));
    server.cp.pods.push({
      name: 'fluentd-abcde',
      node: 'node-1',
      daemonSet: 'kube-system/fluentd',
      revision: 'r1',
      images: ['fluentd:1'],
      createdAt: Date.now(),
      ready: true,
      phase: 'Running',
    });
    server.cp.histories.set('kube-system/fluentd', [
      {
        revision: 1,
        hash: 'h1',
        commit: 'c1',
        author: 'a',
        date: '2024-01-01T00:00:00Z',
        subject: 's',
        changeCause: '',
        path: 'fluentd.yaml',
      },
    ]);
  });

  after(async () => {
    await server.close();
  });

  test('delete pod NAME prints kubectl wording; an unknown pod exits 1', async () => {
    const r = await runCli(['delete', 'pod', 'fluentd-abcde', '-n', 'kube-system'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pod "fluentd-abcde" deleted\n');
    assert.equal(server.cp.pods.length, 0);
    const again = await runCli(['delete', 'pod/fluentd-abcde', '-n', 'kube-system'], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'error: pods "fluentd-abcde" not found in namespace "kube-system"\n');
  });

  test('rollout pause and resume', async () => {
    const p = await runCli(['rollout', 'pause', 'ds/fluentd', '-n', 'kube-system'], env);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, 'daemonset.apps/fluentd paused\n');
    assert.equal(server.cp.daemonSets[0]!.status.paused, true);
    const r = await runCli(['rollout', 'resume', 'daemonset', 'fluentd', '-n', 'kube-system'], env);
    assert.equal(r.stdout, 'daemonset.apps/fluentd resumed\n');
    assert.equal(server.cp.daemonSets[0]!.status.paused, false);
    const unknown = await runCli(['rollout', 'pause', 'ds/nope'], env);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'error: daemonsets.apps "nope" not found in namespace "default"\n');
  });

  test('node add, ready, remove', async () => {
    const add = await runCli(
      [
        'node',
        'add',
        'node-7',
        '--label',
        'zone=a',
        '--label',
        'disk=ssd',
        '--taint',
        'gpu=true:NoSchedule',
        '--taint',
        'spot:NoExecute',
      ],
      env,
    );
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'node/node-7 added\n');
    assert.deepEqual(
      server.cp.nodes.find((n) => n.name === 'node-7'),
      {
        name: 'node-7',
        labels: { zone: 'a', disk: 'ssd' },
        taints: [
          { key: 'gpu', value: 'true', effect: 'NoSchedule' },
          { key: 'spot', effect: 'NoExecute' },
        ],
      },
    );
    const notReady = await runCli(['node', 'ready', 'node-7', '--ready=false'], env);
    assert.equal(notReady.stdout, 'node/node-7 not ready\n');
    assert.equal(server.cp.nodes.find((n) => n.name === 'node-7')!.ready, false);
    const ready = await runCli(['node', 'ready', 'node-7'], env);
    assert.equal(ready.stdout, 'node/node-7 ready\n');
    assert.equal(server.cp.nodes.find((n) => n.name === 'node-7')!.ready, true);
    const remove = await runCli(['node', 'remove', 'node-7'], env);
    assert.equal(remove.stdout, 'node/node-7 removed\n');
    const again = await runCli(['node', 'remove', 'node-7'], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'error: nodes "node-7" not found\n');
    const badTaint = await runCli(['node', 'add', 'node-8', '--taint', 'gpu=true:Sometimes'], env);
    assert.equal(badTaint.code, 2);
    assert.match(badTaint.stderr, /^error: invalid taint "gpu=true:Sometimes"/);
  });

  test('sync requests a sync', async () => {
    const r = await runCli(['sync'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'sync requested\n');
    assert.deepEqual(server.cp.syncRequests.at(-1), { reason: 'api' });
  });

  test('--server wins over DSCTL_SERVER', async () => {
    const r = await runCli(['sync', '--server', server.url], { DSCTL_SERVER: 'http://127.0.0.1:9' });
    assert.equal(r.code, 0, r.stderr);
  });

  test('fetchHistory reads the history through the API', async () => {
    const h = await fetchHistory(server.url, 'kube-system', 'fluentd', true);
    assert.equal(h[0]!.revision, 1);
    assert.deepEqual(server.cp.historyQueries.at(-1), {
      ref: { namespace: 'kube-system', name: 'fluentd' },
      all: true,
    });
    await assert.rejects(fetchHistory(server.url, 'kube-system', 'nope'), {
      message: 'daemonsets.apps "nope" not found in namespace "kube-system"',
    });
  });
});

describe('auth and reachability errors', () => {
  test('a token-protected worker: without DSCTL_TOKEN the CLI says to set it; with it the change goes through', async () => {
    const server = await startServer(undefined, { token: 's3cret' });
    try {
      const without = await runCli(['sync'], { DSCTL_SERVER: server.url });
      assert.equal(without.code, 1);
      assert.equal(
        without.stderr,
        "error: the dsctl worker needs an API token for this: set DSCTL_TOKEN to the worker's token\n",
      );
      const wrong = await runCli(['sync'], { DSCTL_SERVER: server.url, DSCTL_TOKEN: 'nope' });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /rejected the token in DSCTL_TOKEN/);
      const right = await runCli(['sync'], { DSCTL_SERVER: server.url, DSCTL_TOKEN: 's3cret' });
      assert.equal(right.code, 0, right.stderr);
      assert.equal(server.cp.syncRequests.length, 1);
      const read = await runCli(['get', 'nodes'], { DSCTL_SERVER: server.url });
      assert.equal(read.code, 0, 'reads need no token');
    } finally {
      await server.close();
    }
  });

  test('no worker at the address: exit 1 with what to do', async () => {
    const port = await deadPort();
    const url = `http://127.0.0.1:${port}`;
    const r = await runCli(['get', 'ds'], { DSCTL_SERVER: url });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: no dsctl worker answers at ${url}: start one with "dsctl worker ..." or set --server/DSCTL_SERVER\n`,
    );
    const flag = await runCli(['describe', 'ds', 'x', '--server', url]);
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /no dsctl worker answers at/);
  });

  test('bad usage exits 2', async () => {
    const cases = [
      ['get', 'ds', '--bogus'],
      ['get'],
      ['get', 'deployments'],
      ['get', 'ds', '-o', 'table'],
      ['get', 'ds/x', 'y'],
      ['get', 'ds', 'x', '-A'],
      ['describe'],
      ['describe', 'ds/'],
      ['delete', 'pod'],
      ['delete', 'ds/x'],
      ['node', 'add'],
      ['get', 'ds', '--server', 'ftp://x'],
    ];
    const results = await Promise.all(cases.map((args) => runCli(args, { DSCTL_SERVER: 'http://127.0.0.1:9' })));
    results.forEach((r, i) => {
      const args = cases[i]!.join(' ');
      assert.equal(r.code, 2, `${args} → ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /error/, args);
    });
  });
});

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return address.port;
}
