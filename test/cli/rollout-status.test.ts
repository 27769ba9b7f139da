import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { estimateEtaSeconds, formatEta } from '../../src/cli/print/rollout-progress.js';
import { rolloutStatusVerdict } from '../../src/cli/commands/rollout-status.js';
import { makeDaemonSetView } from '../helpers/fake-control-plane.js';
import { runCli, startServer, type CliServer } from './cli-fixture.js';

const FAST = ['--interval', '20ms'];

describe('rollout status against a worker', { concurrency: true }, () => {
  let server: CliServer;
  let env: Record<string, string>;

  before(async () => {
    server = await startServer();
    env = { DSCTL_SERVER: server.url };
  });

  after(async () => {
    await server.close();
  });

  function addDs(name: string, init: Parameters<typeof makeDaemonSetView>[0] = { name }) {
    server.cp.daemonSets.push(makeDaemonSetView({ ...init, name }));
    return { namespace: 'default', name };
  }

  test('prints a line per observed change and exits 0 once rolled out', async () => {
    const ref = addDs('fluentd');
    const rolling = { desiredNumberScheduled: 5, currentNumberScheduled: 5 };
    server.cp.scriptStatus(ref, [
      { ...rolling, updatedNumberScheduled: 1, numberAvailable: 4 },
      { ...rolling, updatedNumberScheduled: 1, numberAvailable: 4 },
      { ...rolling, updatedNumberScheduled: 3, numberAvailable: 4 },
      { ...rolling, updatedNumberScheduled: 5, numberAvailable: 4 },
      { ...rolling, updatedNumberScheduled: 5, numberAvailable: 4 },
      { ...rolling, updatedNumberScheduled: 5, numberAvailable: 5 },
    ]);
    const r = await runCli(['rollout', 'status', 'ds/fluentd', ...FAST], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'Waiting for daemon set "fluentd" rollout to finish: 1 out of 5 new pods have been updated...',
        'Waiting for daemon set "fluentd" rollout to finish: 3 out of 5 new pods have been updated...',
        'Waiting for daemon set "fluentd" rollout to finish: 4 of 5 updated pods are available...',
        'daemon set "fluentd" successfully rolled out',
        '',
      ].join('\n'),
    );
    assert.equal(r.stderr, '');
  });

  test('accepts "daemonset NAME" and -n', async () => {
    server.cp.daemonSets.push(makeDaemonSetView({ name: 'exporter', namespace: 'monitoring' }));
    const r = await runCli(['rollout', 'status', 'daemonset', 'exporter', '-n', 'monitoring'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'daemon set "exporter" successfully rolled out\n');
  });

  test('times out with kubectl wording and exit 1', async () => {
    addDs('stuck', { name: 'stuck', status: { updatedNumberScheduled: 2, numberAvailable: 4 } });
    const r = await runCli(['rollout', 'status', 'ds/stuck', '--timeout', '300ms', ...FAST], env);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      'Waiting for daemon set "stuck" rollout to finish: 2 out of 5 new pods have been updated...\n',
    );
    assert.equal(r.stderr, 'error: timed out waiting for the condition\n');
  });

  test('--watch=false prints the current state once and exits 0', async () => {
    addDs('once', { name: 'once', status: { updatedNumberScheduled: 5, numberAvailable: 3 } });
    const r = await runCli(['rollout', 'status', 'ds/once', '--watch=false'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Waiting for daemon set "once" rollout to finish: 3 of 5 updated pods are available...\n');
  });

  test('OnDelete is refused with exit 1', async () => {
    addDs('ondelete', { name: 'ondelete', strategy: 'OnDelete' });
    const r = await runCli(['rollout', 'status', 'ds/ondelete'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'error: rollout status is only available for RollingUpdate strategy type\n');
  });

  test('an exceeded progress deadline ends with exit 1 and the reason', async () => {
    const ref = addDs('deadline', { name: 'deadline', status: { updatedNumberScheduled: 1, numberAvailable: 4 } });
    server.cp.scriptStatus(ref, [
      {},
      {
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'node-2 did not become available within 600s',
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    ]);
    const r = await runCli(['rollout', 'status', 'ds/deadline', ...FAST], env);
    assert.equal(r.code, 1);
    assert.equal(
      r.stdout,
      'Waiting for daemon set "deadline" rollout to finish: 1 out of 5 new pods have been updated...\n',
    );
    assert.equal(
      r.stderr,
      'error: daemon set "deadline" exceeded its progress deadline: node-2 did not become available within 600s\n',
    );
  });

  test('waits for the spec update to be observed first', async () => {
    const ref = addDs('newspec', { name: 'newspec', generation: 4, status: { observedGeneration: 3 } });
    server.cp.scriptStatus(ref, [{}, { observedGeneration: 4 }]);
    const r = await runCli(['rollout', 'status', 'ds/newspec', ...FAST], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'Waiting for daemon set spec update to be observed...\ndaemon set "newspec" successfully rolled out\n',
    );
  });

  test('bad usage exits 2', async () => {
    const cases = [
      ['rollout', 'status'],
      ['rollout', 'status', 'deploy/x'],
      ['rollout', 'status', 'ds/'],
      ['rollout', 'status', 'ds/a', 'b'],
      ['rollout', 'status', 'ds/fluentd', '--timeout', 'soon'],
      ['rollout', 'status', 'ds/fluentd', '--watch=maybe'],
      ['rollout', 'status', 'ds/fluentd', '--bogus'],
    ];
    const results = await Promise.all(cases.map((args) => runCli(args, env)));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]!.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error/);
    });
  });

  test('unknown DaemonSet exits 1', async () => {
    const r = await runCli(['rollout', 'status', 'ds/nope'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: daemonsets.apps "nope" not found in namespace "default"\n');
  });
});

test('rolloutStatusVerdict follows kubectl order', () => {
  const ds = makeDaemonSetView({ name: 'x' });
  assert.deepEqual(rolloutStatusVerdict(ds), { kind: 'done', message: 'daemon set "x" successfully rolled out' });
  const noStrategy = makeDaemonSetView({ name: 'x' });
  delete noStrategy.spec.updateStrategy;
  assert.equal(rolloutStatusVerdict(noStrategy).kind, 'done', 'RollingUpdate is the default');
});

test('estimateEtaSeconds uses the observed pace of finished nodes', () => {
  assert.equal(estimateEtaSeconds([], 5), null);
  assert.equal(estimateEtaSeconds([{ t: 0, done: 0 }], 5), null);
  assert.equal(
    estimateEtaSeconds(
      [
        { t: 0, done: 0 },
        { t: 10_000, done: 1 },
        { t: 20_000, done: 2 },
      ],
      5,
    ),
    30,
  );
  // Two nodes at a time: 2 nodes per 10 s → 5 s per node; 6 left.
  assert.equal(
    estimateEtaSeconds(
      [
        { t: 0, done: 0 },
        { t: 10_000, done: 2 },
        { t: 12_000, done: 2 },
      ],
      8,
    ),
    30,
  );
  assert.equal(estimateEtaSeconds([{ t: 0, done: 5 }], 5), 0);
  assert.equal(formatEta(null), '?');
  assert.equal(formatEta(42), '42s');
  assert.equal(formatEta(90), '1m30s');
  assert.equal(formatEta(3720), '1h2m');
});
