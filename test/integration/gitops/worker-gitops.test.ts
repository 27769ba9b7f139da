/**
 * A real worker on a bare remote (its `--repo` is the bare repository's path), driven through the real CLI: the
 * acceptance scenario of issue 6 (filebeat 5.6.5 → 5.6.6, `rollout undo --to-revision 1` commits 5.6.5 back with
 * every comment kept, the history shows revision 3 with revision 1's template, the fleet converges), the error and
 * dry-run paths, `set image`, `rollout pause|resume` as commits, and a progress deadline that makes
 * `rollout status` fail and shows in the metrics.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lexer } from 'yaml';
import type { EventView, HistoryEntry } from '../../../src/domain/views.js';
import { measureNodesDown } from '../../../src/fleet/timeline-analysis.js';
import type { WorkerHandle } from '../../../src/worker/main.js';
import {
  commitFiles,
  makeBareRemote,
  makeRepo,
  push,
  removeTempDirs,
  tempDir,
  type TestRepo,
} from '../../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';
import { getDaemonSet, getJson, isRolledOut, startTestWorker, timeline, waitFor } from '../../helpers/worker.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FILEBEAT = readFileSync(join(root, 'manifests-example', 'filebeat-ds.yaml'), 'utf8');
const V565 = FILEBEAT;
const V566 = FILEBEAT.replace('ikubernetes/filebeat:5.6.5-alpine', 'ikubernetes/filebeat:5.6.6-alpine');
const DS = 'default/filebeat-ds';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function comments(text: string): string[] {
  return [...new Lexer().lex(text)].filter((t) => t.startsWith('#')).sort();
}

/** Commits on top of the remote's tip as another person would (fetch, change, commit, push). */
function pushChange(remote: TestRepo, files: Record<string, string>, message: string): string {
  const person = makeRepo();
  person.git(['fetch', '--quiet', remote.dir, 'main']);
  person.git(['reset', '--quiet', '--hard', 'FETCH_HEAD']);
  const sha = commitFiles(person, files, message, { name: 'Ada', date: new Date().toISOString() });
  push(person, remote);
  return sha;
}

function remoteFile(remote: TestRepo): string {
  return execFileSync('git', ['show', 'main:filebeat-ds.yaml'], { cwd: remote.dir, encoding: 'utf8' });
}

describe('a worker writing rollbacks and changes to its Git remote', { timeout: 180_000 }, () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('gitops');
  let remote: TestRepo;
  let worker: WorkerHandle;
  let revision1Hash = '';

  const cli = (args: string[]): Promise<CliResult> =>
    new Promise((done) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args],
        {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DSCTL_SERVER: worker.url },
        },
        (err, stdout, stderr) =>
          done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  const history = () =>
    getJson<HistoryEntry[]>(`${worker.url}/api/v1/namespaces/default/daemonsets/filebeat-ds/history`);
  const events = () => getJson<EventView[]>(`${worker.url}/api/v1/namespaces/default/daemonsets/filebeat-ds/events`);
  const view = () => getDaemonSet(worker.url, 'default', 'filebeat-ds');
  const pods = () => getJson<{ node: string; image?: string; revision: string }[]>(`${worker.url}/api/v1/pods`);

  before(async () => {
    remote = makeBareRemote();
    const author = makeRepo();
    commitFiles(author, { 'filebeat-ds.yaml': V565 }, 'filebeat 5.6.5');
    commitFiles(author, { 'filebeat-ds.yaml': V566 }, 'filebeat 5.6.6');
    push(author, remote);
    worker = await startTestWorker({
      repo: remote.dir,
      dataDir: tempDir('dsctl-data'),
      prefix,
      fleet: 'sim:5',
      simStartDelay: '100ms',
      simFailImage: ':broken$',
      pollInterval: '500ms',
      lockDuration: '3s',
      gitAuthorName: 'Fleet Bot',
      gitAuthorEmail: 'fleet-bot@example.com',
    });
    await waitFor('revision 2 rolled out', async () => isRolledOut(await view(), 2), 30_000);
    revision1Hash = (await history())[0]!.hash;
  });

  after(async () => {
    await worker?.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  test('rollout undo --dry-run prints the message and the diff and writes nothing', async () => {
    const head = remote.git(['rev-parse', 'main']);
    const r = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--to-revision', '1', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Roll back ds\/filebeat-ds to revision 1\n/);
    assert.match(r.stdout, /\nRollback-To-Revision: 1\n/);
    assert.match(r.stdout, /\n--- a\/filebeat-ds\.yaml\n\+\+\+ b\/filebeat-ds\.yaml\n/);
    assert.match(
      r.stdout,
      /\n-\s+image: ikubernetes\/filebeat:5\.6\.6-alpine\n\+\s+image: ikubernetes\/filebeat:5\.6\.5-alpine\n/,
    );
    assert.match(r.stdout, /\ndaemonset\.apps\/filebeat-ds rolled back \(dry run\)\n$/);
    assert.equal(remote.git(['rev-parse', 'main']), head);
  });

  test('an unknown revision is an error that lists the revisions', async () => {
    const r = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--to-revision=9']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: unable to find specified revision 9 in history (revisions: 1, 2)\n');
    const missing = await cli(['rollout', 'undo', 'ds/nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: daemonsets\.apps "nope" not found in namespace "default"/);
  });

  test('acceptance: undo --to-revision 1 commits 5.6.5 back with every comment; history 2, 3; the fleet converges', async () => {
    const r = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--to-revision', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'daemonset.apps/filebeat-ds rolled back\n');
    const file = remoteFile(remote);
    assert.equal(file, V565, 'the template of revision 1 is back, the rest of the file untouched');
    assert.deepEqual(comments(file), comments(V566));
    assert.equal(
      remote.git(['log', '-1', '--format=%s|%an <%ae>', 'main']),
      'Roll back ds/filebeat-ds to revision 1|Fleet Bot <fleet-bot@example.com>',
    );
    assert.match(
      remote.git(['log', '-1', '--format=%B', 'main']),
      /Rollback-To-Revision: 1\nRollback-Of-Commit: [0-9a-f]{40}/,
    );

    const entries = await waitFor('revision 3 in the history', async () => {
      const h = await history();
      return h.some((e) => e.revision === 3) && h;
    });
    assert.deepEqual(
      entries.map((e) => e.revision),
      [2, 3],
    );
    assert.equal(entries[1]!.hash, revision1Hash, 'revision 3 is revision 1 reused');
    assert.equal(entries[1]!.subject, 'Roll back ds/filebeat-ds to revision 1');

    await waitFor('revision 3 rolled out', async () => isRolledOut(await view(), 3), 30_000);
    const images = (await pods()).map((p) => p.image).sort();
    assert.deepEqual(images, Array(5).fill('ikubernetes/filebeat:5.6.5-alpine'));
    assert.equal(measureNodesDown(await timeline(worker.url), DS).max, 1);
    assert.ok((await events()).some((e) => e.reason === 'RolledBack' && /pushed: Roll back/.test(e.message)));
  });

  test('undo to the template it already has is skipped', async () => {
    const head = remote.git(['rev-parse', 'main']);
    const r = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--to-revision', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'daemonset.apps/filebeat-ds skipped rollback (current template already matches revision 3)\n',
    );
    assert.equal(remote.git(['rev-parse', 'main']), head);
  });

  test('set image commits only the image; an unknown container lists the containers', async () => {
    const bad = await cli(['set', 'image', 'ds/filebeat-ds', 'nginx=nginx:1']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'error: unable to find container named "nginx" (containers: filebeat)\n');
    const r = await cli(['set', 'image', 'ds/filebeat-ds', 'filebeat=ikubernetes/filebeat:5.6.7-alpine']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'daemonset.apps/filebeat-ds image updated\n');
    assert.equal(remoteFile(remote), V565.replace('5.6.5-alpine', '5.6.7-alpine'));
    await waitFor('revision 4 rolled out', async () => isRolledOut(await view(), 4), 30_000);
  });

  test('rollout pause and resume are commits of the dsctl.dev/paused annotation', async () => {
    const p = await cli(['rollout', 'pause', 'ds/filebeat-ds']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, 'daemonset.apps/filebeat-ds paused\n');
    assert.match(remoteFile(remote), /\n {2}annotations:\n {4}dsctl\.dev\/paused: "true"\n/);
    await waitFor('paused', async () => (await view())?.status.paused === true);
    // A new template while paused does not roll out.
    pushChange(
      remote,
      { 'filebeat-ds.yaml': remoteFile(remote).replace('5.6.7-alpine', '5.6.8-alpine') },
      'filebeat 5.6.8',
    );
    await waitFor('revision 5 observed', async () => (await view())?.status.updateRevisionNumber === 5);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await view())!.status.updatedNumberScheduled, 0, 'no node updated while paused');

    const r = await cli(['rollout', 'resume', 'ds/filebeat-ds']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'daemonset.apps/filebeat-ds resumed\n');
    assert.doesNotMatch(remoteFile(remote), /dsctl\.dev\/paused/);
    await waitFor('revision 5 rolled out after resume', async () => isRolledOut(await view(), 5), 30_000);
    const again = await cli(['rollout', 'resume', 'ds/filebeat-ds']);
    assert.equal(again.stdout, 'daemonset.apps/filebeat-ds not paused (nothing to commit)\n');
  });

  test('a rollout without progress for the deadline fails: condition, rollout status exit 1, metric', async () => {
    const text = remoteFile(remote)
      .replace(
        '  labels:\n    app: filebeat\n',
        '  labels:\n    app: filebeat\n  annotations:\n    dsctl.dev/progress-deadline-seconds: "2"\n',
      )
      .replace(/image: ikubernetes\/filebeat:[^\n]+/, 'image: ikubernetes/filebeat:broken');
    pushChange(remote, { 'filebeat-ds.yaml': text }, 'filebeat with a broken tag');
    const failed = await waitFor(
      'ProgressDeadlineExceeded',
      async () => {
        const v = await view();
        const c = v?.status.conditions.find((x) => x.type === 'Progressing');
        return c?.reason === 'ProgressDeadlineExceeded' && c;
      },
      30_000,
    );
    assert.equal(failed.status, 'False');
    assert.match(failed.message, /no progress for \d+s \(deadline 2s\); stuck nodes: node-1/);
    const status = await cli(['rollout', 'status', 'ds/filebeat-ds', '--timeout', '20s']);
    assert.equal(status.code, 1);
    assert.match(
      status.stderr,
      /error: daemon set "filebeat-ds" exceeded its progress deadline: no progress for \d+s \(deadline 2s\); stuck nodes: node-1\n$/,
    );
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    assert.match(metrics, /dsctl_rollout_deadline_exceeded\{daemonset="default\/filebeat-ds"\} 1/);
    // Without the auto-rollback annotation nothing is rolled back.
    assert.doesNotMatch(remote.git(['log', '--format=%s', 'main']), /Auto-roll back/);
  });

  test('a read-only remote: pause falls back to the runtime pause and says so; set image prints the patch', async () => {
    const hook = join(remote.dir, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "protected branch: pushes need a review" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    try {
      const head = remote.git(['rev-parse', 'main']);
      const p = await cli(['rollout', 'pause', 'ds/filebeat-ds']);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.stdout, 'daemonset.apps/filebeat-ds paused\n');
      assert.match(
        p.stderr,
        /^warning: the pause could not be committed to .* \(pre-receive hook declined; protected branch: pushes need a review\); the rollout is paused at runtime only/,
      );
      await waitFor('paused at runtime', async () => (await view())?.status.paused === true);

      const s = await cli(['set', 'image', 'ds/filebeat-ds', 'filebeat=ikubernetes/filebeat:5.6.9-alpine']);
      assert.equal(s.code, 1);
      assert.match(
        s.stderr,
        /^error: the repository .* refused the push \(pre-receive hook declined; protected branch: pushes need a review\): it is not writable for dsctl/,
      );
      assert.match(s.stderr, /Apply this change by hand with "git am":\n\nFrom [0-9a-f]{40} /);
      assert.match(
        s.stderr,
        /Subject: \[PATCH\] Set image of ds\/filebeat-ds:\s+filebeat=ikubernetes\/filebeat:5\.6\.9-alpine/,
      );
      assert.match(s.stderr, /\n\+\s+image: ikubernetes\/filebeat:5\.6\.9-alpine\n/);
      assert.equal(remote.git(['rev-parse', 'main']), head, 'nothing reached the remote');

      // Resume: nothing to commit (the pause never reached Git), the runtime pause is lifted.
      const r = await cli(['rollout', 'resume', 'ds/filebeat-ds']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'daemonset.apps/filebeat-ds resumed\n');
      await waitFor('resumed', async () => (await view())?.status.paused === false);
    } finally {
      rmSync(hook);
    }
  });
});
