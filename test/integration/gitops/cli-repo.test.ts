/**
 * The CLI writing straight to a repository (`--repo`, or `DSCTL_REPO` without `--server`), no worker: history
 * computed from Git, commit from a private clone, the committer from flags.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ChangeResult } from '../../../src/gitops/types.js';
import { commitFiles, makeBareRemote, makeRepo, push, removeTempDirs, type TestRepo } from '../../helpers/git.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const V565 = readFileSync(join(root, 'manifests-example', 'filebeat-ds.yaml'), 'utf8');
const V566 = V565.replace('ikubernetes/filebeat:5.6.5-alpine', 'ikubernetes/filebeat:5.6.6-alpine');

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('dsctl with --repo (no worker)', { timeout: 120_000 }, () => {
  let remote: TestRepo;
  const file = () => execFileSync('git', ['show', 'main:filebeat-ds.yaml'], { cwd: remote.dir, encoding: 'utf8' });
  const head = () => remote.git(['rev-parse', 'main']);

  before(() => {
    remote = makeBareRemote();
    const author = makeRepo();
    commitFiles(author, { 'filebeat-ds.yaml': V565 }, 'filebeat 5.6.5');
    commitFiles(author, { 'filebeat-ds.yaml': V566 }, 'filebeat 5.6.6');
    push(author, remote);
  });

  after(() => removeTempDirs());

  test('undo --dry-run shows the change and writes nothing', async () => {
    const before = head();
    const r = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--repo', remote.dir, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Roll back ds\/filebeat-ds to revision 1\n/);
    assert.match(r.stdout, /\n\+\s+image: ikubernetes\/filebeat:5\.6\.5-alpine\n/);
    assert.match(r.stdout, /daemonset\.apps\/filebeat-ds rolled back \(dry run\)\n$/);
    assert.equal(head(), before);
  });

  test('undo commits to the repository; bad revisions are usage errors', async () => {
    const negative = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--repo', remote.dir, '--to-revision', '-1']);
    assert.equal(negative.code, 2);
    assert.equal(negative.stderr, 'error: revision must be a positive integer\n');
    const unknown = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--repo', remote.dir, '--to-revision', '5']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'error: unable to find specified revision 5 in history (revisions: 1, 2)\n');
    const r = await cli(['rollout', 'undo', 'ds/filebeat-ds', '--repo', remote.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'daemonset.apps/filebeat-ds rolled back\n');
    assert.equal(file(), V565);
  });

  test('set image with DSCTL_REPO and a committer from flags; -o json', async () => {
    const r = await cli(
      [
        'set',
        'image',
        'ds',
        'filebeat-ds',
        'filebeat=ikubernetes/filebeat:5.6.7-alpine',
        '--git-author-name',
        'Jane Ops',
        '--git-author-email',
        'jane@example.com',
        '-o',
        'json',
      ],
      { DSCTL_REPO: remote.dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as ChangeResult;
    assert.equal(result.outcome, 'committed');
    assert.equal(result.commit, head());
    assert.equal(result.file, 'filebeat-ds.yaml');
    assert.equal(
      remote.git(['log', '-1', '--format=%an <%ae>|%cn <%ce>', 'main']),
      'Jane Ops <jane@example.com>|Jane Ops <jane@example.com>',
    );
    assert.equal(file(), V565.replace('5.6.5-alpine', '5.6.7-alpine'));
    const usage = await cli(['set', 'image', 'ds/filebeat-ds', '--repo', remote.dir]);
    assert.equal(usage.code, 2, 'no CONTAINER=IMAGE is bad usage');
    const badPair = await cli(['set', 'image', 'ds/filebeat-ds', 'filebeat', '--repo', remote.dir]);
    assert.equal(badPair.code, 2);
    assert.equal(badPair.stderr, 'error: set image: "filebeat" is not CONTAINER=IMAGE\n');
  });

  test('pause and resume commit the annotation', async () => {
    const p = await cli(['rollout', 'pause', 'ds/filebeat-ds', '--repo', remote.dir]);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, 'daemonset.apps/filebeat-ds paused\n');
    assert.match(file(), /dsctl\.dev\/paused: "true"/);
    assert.equal(remote.git(['log', '-1', '--format=%s', 'main']), 'Pause rollout of ds/filebeat-ds');
    const r = await cli(['rollout', 'resume', 'ds/filebeat-ds', '--repo', remote.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(file(), V565.replace('5.6.5-alpine', '5.6.7-alpine'));
  });
});
