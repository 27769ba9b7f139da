/**
 * The demo repository takes the worker's pushes (undo, set image, pause) although its branch is
 * checked out, and a second start keeps what was committed. Real git, temporary directories.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { seedDemoRepository } from '../../../src/demo/seed-repository.js';
import { authorEnv, removeTempDirs, tempDir } from '../../helpers/git.js';

const manifests = join(import.meta.dirname, '../../../manifests-example');
const git = (cwd: string, args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...authorEnv() } }).trim();

after(() => removeTempDirs());

test('a push to the checked-out branch of the demo repository lands in its work tree', () => {
  const repo = join(tempDir('dsctl-demo'), 'repo');
  seedDemoRepository(repo, manifests);
  assert.deepEqual(git(repo, ['log', '--format=%s']).split('\n'), ['Add the DaemonSets of the seeds']);
  assert.ok(readdirSync(repo).includes('filebeat-ds.yaml'));

  // What the worker's Git writer does: a clone, a commit, a push to main.
  const clone = tempDir('dsctl-demo-clone');
  git(clone, ['clone', '--quiet', repo, '.']);
  const file = join(clone, 'filebeat-ds.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('5.6.5-alpine', '5.6.6-alpine'));
  git(clone, ['commit', '--quiet', '-am', 'Roll back ds/filebeat-ds to revision 1']);
  git(clone, ['push', '--quiet', 'origin', 'main']);

  assert.equal(git(repo, ['log', '-1', '--format=%s']), 'Roll back ds/filebeat-ds to revision 1');
  assert.match(readFileSync(join(repo, 'filebeat-ds.yaml'), 'utf8'), /filebeat:5\.6\.6-alpine/);
  assert.equal(git(repo, ['status', '--porcelain']), '', 'the work tree follows the pushed commit');

  // A second start keeps the history and the setting.
  seedDemoRepository(repo, manifests);
  assert.equal(git(repo, ['rev-list', '--count', 'HEAD']), '2');
  assert.equal(git(repo, ['config', 'receive.denyCurrentBranch']), 'updateInstead');
});
