import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { PodTemplateSpec } from '../../../src/domain/kubernetes.js';
import { formatHistoryTable, padColumns } from '../../../src/cli/print/history.js';
import { formatPodTemplate } from '../../../src/cli/print/pod-template.js';
import { alignTabbed } from '../../../src/cli/print/tab-writer.js';
import { commitFiles, daemonSetYaml, makeRepo, removeTempDirs, tempDir, type TestRepo } from '../../helpers/git.js';
import { by } from './fixtures.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A port nothing listens on, so a test never reaches a worker someone else runs on 8080. */
const NO_WORKER = 'http://127.0.0.1:9';

/** Spawns `node --import tsx src/cli/main.ts ...args` from the project root. */
function dsctl(...args: string[]): Promise<Run> {
  return dsctlWith({}, ...args);
}

function dsctlWith(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', DSCTL_SERVER: NO_WORKER, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const fluentd = (image: string, extra: Partial<Parameters<typeof daemonSetYaml>[0]> = {}): string =>
  daemonSetYaml({ name: 'fluentd', namespace: 'kube-system', image, ...extra });

describe('dsctl rollout history (spawned CLI against a temporary repository)', () => {
  let repo: TestRepo;
  const commits: string[] = [];
  before(() => {
    repo = makeRepo();
    commits.push(
      commitFiles(repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'add fluentd', by('Alice', 1)),
      commitFiles(repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v2') }, 'fluentd v2', by('Bob', 2)),
      commitFiles(
        repo,
        { 'deploy/fluentd.yaml': fluentd('fluentd:v2', { strategy: 'OnDelete' }) },
        'OnDelete only',
        by('Bob', 3),
      ),
      commitFiles(
        repo,
        { 'deploy/fluentd.yaml': fluentd('fluentd:v3', { env: { LOG_LEVEL: 'debug' } }) },
        'fluentd v3 with debug logs',
        by('Carol', 4),
      ),
      commitFiles(
        repo,
        { 'deploy/fluentd.yaml': fluentd('fluentd:v1', { changeCause: 'rollback to v1' }) },
        'Revert to v1',
        by('Dave', 5),
      ),
    );
  });
  after(() => removeTempDirs());

  test('table: kubectl layout plus COMMIT, AUTHOR, DATE', async () => {
    const r = await dsctl(
      'rollout',
      'history',
      'ds/fluentd',
      '-n',
      'kube-system',
      '--repo',
      repo.dir,
      '--path',
      'deploy',
    );
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const short = (i: number): string => commits[i]!.slice(0, 7);
    assert.equal(
      r.stdout,
      [
        'daemonset.apps/fluentd ',
        'REVISION  COMMIT   AUTHOR  DATE                       CHANGE-CAUSE',
        `2         ${short(1)}  Bob     2024-01-02T10:00:00+00:00  fluentd v2`,
        `3         ${short(3)}  Carol   2024-01-04T10:00:00+00:00  fluentd v3 with debug logs`,
        `4         ${short(4)}  Dave    2024-01-05T10:00:00+00:00  rollback to v1`,
        '',
        '',
      ].join('\n'),
    );
  });

  test('-o json: the list of product.md, oldest first, full shas', async () => {
    const r = await dsctl(
      'rollout',
      'history',
      'ds/fluentd',
      '-n',
      'kube-system',
      '--repo',
      repo.dir,
      '--path',
      'deploy',
      '-o',
      'json',
    );
    assert.equal(r.code, 0);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      list.map((e) => e['revision']),
      [2, 3, 4],
    );
    for (const e of list) {
      for (const k of ['revision', 'hash', 'commit', 'author', 'date', 'subject', 'changeCause', 'path']) {
        assert.ok(k in e, `${k} in entry`);
      }
      assert.match(String(e['commit']), /^[0-9a-f]{40}$/);
      assert.match(String(e['hash']), /^[4-9bcdf]{1,10}$/);
      assert.equal(e['path'], 'deploy/fluentd.yaml');
    }
    assert.deepEqual(list[0], {
      revision: 2,
      hash: list[0]!['hash'],
      commit: commits[1],
      author: 'Bob',
      date: '2024-01-02T10:00:00+00:00',
      subject: 'fluentd v2',
      changeCause: 'fluentd v2',
      path: 'deploy/fluentd.yaml',
    });
    assert.deepEqual(list[2]!['createdBy'], {
      commit: commits[0],
      author: 'Alice',
      date: '2024-01-01T10:00:00+00:00',
      subject: 'add fluentd',
      changeCause: 'add fluentd',
      path: 'deploy/fluentd.yaml',
      revision: 1,
    });
  });

  test('--revision N: the pod template of that commit, in describe format, then the patch', async () => {
    const args = ['rollout', 'history', 'ds/fluentd', '-n', 'kube-system', '--repo', repo.dir, '--path', 'deploy'];
    const written = parseYaml(repo.git(['show', `${commits[3]}:deploy/fluentd.yaml`])) as {
      spec: { template: PodTemplateSpec };
    };
    const text = await dsctl(...args, '--revision', '3');
    assert.equal(text.code, 0);
    assert.equal(
      text.stdout,
      'daemonset.apps/fluentd with revision #3\n' +
        formatPodTemplate(written.spec.template) +
        '\nPatch from revision #2 (RFC 6902):\n' +
        '  {"op":"replace","path":"/spec/containers/0/image","value":"fluentd:v3"}\n' +
        '  {"op":"add","path":"/spec/containers/0/env","value":[{"name":"LOG_LEVEL","value":"debug"}]}\n',
    );
    assert.match(text.stdout, /\n {4}Image:\tfluentd:v3\n/);
    assert.match(text.stdout, /\n {4}Environment:\n {6}LOG_LEVEL:\tdebug\n/);

    const json = await dsctl(...args, '--revision', '3', '-o', 'json');
    const detail = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.deepEqual(detail['template'], written.spec.template, 'the template of that commit');
    assert.equal(detail['commit'], commits[3]);
    assert.equal(detail['previousRevision'], 2);
    assert.deepEqual(detail['patch'], [
      { op: 'replace', path: '/spec/containers/0/image', value: 'fluentd:v3' },
      { op: 'add', path: '/spec/containers/0/env', value: [{ name: 'LOG_LEVEL', value: 'debug' }] },
    ]);
  });

  test('unknown revision: exit 1 listing the revisions that exist', async () => {
    const r = await dsctl(
      'rollout',
      'history',
      'ds/fluentd',
      '-n',
      'kube-system',
      '--repo',
      repo.dir,
      '--path',
      'deploy',
      '--revision',
      '1',
    );
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'error: unable to find the specified revision (revisions: 2, 3, 4)\n');
  });

  test('--all keeps every revision; --data-dir keeps the clone', async () => {
    const dataDir = tempDir('dsctl-data');
    const r = await dsctl(
      'rollout',
      'history',
      'ds',
      'fluentd',
      '--namespace',
      'kube-system',
      '--repo',
      repo.dir,
      '--path',
      'deploy',
      '--all',
      '-o',
      'json',
      '--data-dir',
      dataDir,
      '--branch',
      'main',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { revision: number }[]).map((e) => e.revision),
      [2, 3, 4],
      'numbers are the same with or without pruning',
    );
    assert.equal(readdirSync(join(dataDir, 'repos')).length, 1);
    assert.equal(existsSync(join(dataDir, 'repos', readdirSync(join(dataDir, 'repos'))[0]!, 'HEAD')), true);
  });

  test('usage errors exit 2; a missing DaemonSet or repository exits 1', async () => {
    const noRepoNoWorker = await dsctl('rollout', 'history', 'ds/fluentd');
    assert.equal(noRepoNoWorker.code, 1, 'without --repo it asks the worker, and none answers');
    assert.match(noRepoNoWorker.stderr, /^error: .*127\.0\.0\.1:9/);
    const positionalUrl = await dsctl('rollout', 'history', 'ds/fluentd', 'extra', repo.dir);
    assert.equal(positionalUrl.code, 2);
    const notDs = await dsctl('rollout', 'history', 'deploy/fluentd', '--repo', repo.dir);
    assert.equal(notDs.code, 2);
    const badPath = await dsctl('rollout', 'history', 'ds/fluentd', '--repo', repo.dir, '--path', '../etc');
    assert.equal(badPath.code, 2);
    const negative = await dsctl('rollout', 'history', 'ds/fluentd', '--repo', repo.dir, '--revision', '-3');
    assert.equal(negative.code, 2);
    const missing = await dsctl('rollout', 'history', 'ds/nope', '--repo', repo.dir, '--path', 'deploy');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /daemonsets.apps "nope" not found/);
    const wrongNs = await dsctl('rollout', 'history', 'ds/fluentd', '--repo', repo.dir, '--path', 'deploy');
    assert.equal(wrongNs.code, 1, 'the namespace defaults to "default"');
    const gone = await dsctl('rollout', 'history', 'ds/fluentd', '--repo', join(repo.dir, 'missing'));
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^error: /);
  });

  test('a broken head commit prints a warning and the last good history', async () => {
    const r2 = makeRepo();
    commitFiles(r2, { 'ds.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
    const bad = commitFiles(r2, { 'ds.yaml': 'kind: DaemonSet\n  bad: [\n' }, 'broken', by('Bob', 2));
    const r = await dsctl('rollout', 'history', 'ds/fluentd', '-n', 'kube-system', '--repo', r2.dir);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^1 +[0-9a-f]{7} +Alice /m);
    assert.match(r.stderr, new RegExp(`^warning: ds\\.yaml:\\d+:\\d+ \\(commit ${bad.slice(0, 7)}\\): `, 'm'));
  });
});

describe('dsctl rollout history without --repo asks the worker API', () => {
  const entries = [
    {
      revision: 2,
      hash: '5d4b8c9f7',
      commit: 'a'.repeat(40),
      author: 'Bob',
      date: '2024-01-02T10:00:00+00:00',
      subject: 'v2',
      changeCause: 'v2',
      path: 'deploy/fluentd.yaml',
    },
    {
      revision: 3,
      hash: '6c7f9d4b8',
      commit: 'b'.repeat(40),
      author: 'Carol',
      date: '2024-01-03T10:00:00+00:00',
      subject: 'v3',
      changeCause: 'set image',
      path: 'deploy/fluentd.yaml',
    },
  ];
  const template = {
    metadata: { labels: { app: 'fluentd' } },
    spec: { containers: [{ name: 'fluentd', image: 'fluentd:v3' }] },
  };
  const seen: string[] = [];
  let server: Server;
  let url = '';
  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/api/v1/namespaces/kube-system/daemonsets/fluentd/history')) {
        res.end(JSON.stringify(entries));
      } else if (req.url === '/api/v1/namespaces/kube-system/daemonsets/fluentd') {
        res.end(
          JSON.stringify({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: {}, spec: { template }, status: {} }),
        );
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ message: 'daemonsets.apps "nope" not found', reason: 'NotFound', code: 404 }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('table, json, --all and the current revision', async () => {
    const table = await dsctlWith({ DSCTL_SERVER: url }, 'rollout', 'history', 'ds/fluentd', '-n', 'kube-system');
    assert.equal(table.code, 0, table.stderr);
    assert.equal(
      table.stdout,
      [
        'daemonset.apps/fluentd ',
        'REVISION  COMMIT   AUTHOR  DATE                       CHANGE-CAUSE',
        '2         aaaaaaa  Bob     2024-01-02T10:00:00+00:00  v2',
        '3         bbbbbbb  Carol   2024-01-03T10:00:00+00:00  set image',
        '',
        '',
      ].join('\n'),
    );
    const json = await dsctl(
      'rollout',
      'history',
      'ds/fluentd',
      '-n',
      'kube-system',
      '-o',
      'json',
      '--all',
      '--server',
      url,
    );
    assert.deepEqual(JSON.parse(json.stdout), entries);
    assert.ok(seen.includes('/api/v1/namespaces/kube-system/daemonsets/fluentd/history?all=true'));
    const current = await dsctlWith(
      { DSCTL_SERVER: url },
      'rollout',
      'history',
      'ds/fluentd',
      '-n',
      'kube-system',
      '--revision',
      '3',
    );
    assert.equal(current.code, 0, current.stderr);
    assert.equal(current.stdout, `daemonset.apps/fluentd with revision #3\n${formatPodTemplate(template)}`);
    const older = await dsctlWith(
      { DSCTL_SERVER: url },
      'rollout',
      'history',
      'ds/fluentd',
      '-n',
      'kube-system',
      '--revision',
      '2',
    );
    assert.equal(older.code, 1);
    assert.match(older.stderr, /--repo/);
    const unknown = await dsctlWith(
      { DSCTL_SERVER: url },
      'rollout',
      'history',
      'ds/fluentd',
      '-n',
      'kube-system',
      '--revision',
      '7',
    );
    assert.equal(unknown.stderr, 'error: unable to find the specified revision (revisions: 2, 3)\n');
  });
});

describe('printers', () => {
  // §12.2's prose: values start 2 spaces after the longest key of the block ("  Node-Selectors:" + 2).
  test('the tab writer aligns blocks like kubectl describe', () => {
    const lines = [
      'Pod Template:',
      '  Labels:\tapp=fluentd',
      '  Containers:',
      '   fluentd:',
      '    Image:\tfluentd:v1.17',
      '    Port:\t<none>',
      '    Host Port:\t<none>',
      '    Environment:\t<none>',
      '    Mounts:\t<none>',
      '  Volumes:\t<none>',
      '  Node-Selectors:\t<none>',
      '  Tolerations:\t<none>',
    ];
    assert.deepEqual(alignTabbed(lines), [
      'Pod Template:',
      '  Labels:  app=fluentd',
      '  Containers:',
      '   fluentd:',
      '    Image:         fluentd:v1.17',
      '    Port:          <none>',
      '    Host Port:     <none>',
      '    Environment:   <none>',
      '    Mounts:        <none>',
      '  Volumes:         <none>',
      '  Node-Selectors:  <none>',
      '  Tolerations:     <none>',
    ]);
  });

  test('the pod template shows ports, env, mounts, volumes, selectors and tolerations', () => {
    const template: PodTemplateSpec = {
      metadata: { labels: { tier: 'node', app: 'fluentd' } },
      spec: {
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [
          { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
          { operator: 'Exists' },
          { key: 'dedicated', value: 'logging', effect: 'NoExecute', tolerationSeconds: 30 },
        ],
        containers: [
          {
            name: 'fluentd',
            image: 'fluentd:v1',
            ports: [{ containerPort: 24224, hostPort: 24224 }],
            env: [
              { name: 'A', value: 'b' },
              { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            ],
            volumeMounts: [{ name: 'varlog', mountPath: '/var/log', readOnly: true }],
            resources: { limits: { memory: '200Mi' } },
            livenessProbe: { httpGet: { path: '/healthz', port: 8080 } },
          },
        ],
        volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }],
      },
    };
    assert.equal(
      formatPodTemplate(template, { align: true }),
      [
        'Pod Template:',
        '  Labels:  app=fluentd',
        '           tier=node',
        '  Containers:',
        '   fluentd:',
        '    Image:      fluentd:v1',
        '    Port:       24224/TCP',
        '    Host Port:  24224/TCP',
        '    Limits:',
        '      memory:  200Mi',
        '    Liveness:  http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3',
        '    Environment:',
        '      A:     b',
        '      NODE:   (v1:spec.nodeName)',
        '    Mounts:',
        '      /var/log from varlog (ro)',
        '  Volumes:',
        '   varlog:',
        '    Type:          HostPath (bare host directory volume)',
        '    Path:          /var/log',
        '    HostPathType:  <none>',
        '  Node-Selectors:  kubernetes.io/os=linux',
        '  Tolerations:     op=Exists',
        '                   dedicated=logging:NoExecute for 30s',
        '                   node-role.kubernetes.io/control-plane:NoSchedule op=Exists',
        '',
      ].join('\n'),
    );
  });

  test("an empty history prints kubectl's message; columns pad to the widest cell plus 2", () => {
    assert.equal(formatHistoryTable('x', []), 'No rollout history found.\n');
    assert.deepEqual(
      padColumns([
        ['REVISION', 'CHANGE-CAUSE'],
        ['2', '<none>'],
      ]),
      ['REVISION  CHANGE-CAUSE', '2         <none>'],
    );
  });
});
