/**
 * Auto-rollback with two worker replicas on one Redis and one bare remote: a revision whose pods never become ready
 * is rolled back by a commit once (not once per replica), with an event and a condition that say why; the same bad
 * template pushed again is not rolled back a second time; and a later failure never rolls back to a revision that
 * was itself rolled back automatically.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EventView, HistoryEntry } from '../../../src/domain/views.js';
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
import { getDaemonSet, getJson, isRolledOut, sleep, startTestWorker, waitFor } from '../../helpers/worker.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const GOOD = readFileSync(join(root, 'manifests-example', 'filebeat-ds.yaml'), 'utf8').replace(
  '  labels:\n    app: filebeat\n',
  '  labels:\n    app: filebeat\n  annotations:\n    dsctl.dev/auto-rollback: "true"\n    dsctl.dev/progress-deadline-seconds: "2"\n',
);
const withImage = (tag: string): string =>
  GOOD.replace('ikubernetes/filebeat:5.6.5-alpine', `ikubernetes/filebeat:${tag}`);

function pushChange(remote: TestRepo, text: string, message: string): void {
  const person = makeRepo();
  person.git(['fetch', '--quiet', remote.dir, 'main']);
  person.git(['reset', '--quiet', '--hard', 'FETCH_HEAD']);
  commitFiles(person, { 'filebeat-ds.yaml': text }, message, { name: 'Ada', date: new Date().toISOString() });
  push(person, remote);
}

function autoRollbacks(remote: TestRepo): { subject: string; body: string }[] {
  const out = execFileSync('git', ['log', '--first-parent', '--format=%s%x1f%B%x1e', 'main'], {
    cwd: remote.dir,
    encoding: 'utf8',
  });
  return out
    .split('\x1e')
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map((r) => {
      const [subject = '', body = ''] = r.split('\x1f');
      return { subject, body };
    })
    .filter((c) => c.subject.startsWith('Auto-roll back'));
}

describe('auto-rollback across two replicas', { timeout: 180_000 }, () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('autorollback');
  let remote: TestRepo;
  const workers: WorkerHandle[] = [];

  const url = () => workers[0]!.url;
  const view = () => getDaemonSet(url(), 'default', 'filebeat-ds');
  const history = () => getJson<HistoryEntry[]>(`${url()}/api/v1/namespaces/default/daemonsets/filebeat-ds/history`);
  const events = () => getJson<EventView[]>(`${url()}/api/v1/namespaces/default/daemonsets/filebeat-ds/events`);

  before(async () => {
    remote = makeBareRemote();
    const author = makeRepo();
    commitFiles(author, { 'filebeat-ds.yaml': GOOD }, 'filebeat 5.6.5 with auto-rollback');
    push(author, remote);
    for (let i = 0; i < 2; i++) {
      workers.push(
        await startTestWorker({
          repo: remote.dir,
          dataDir: tempDir(`dsctl-data-${i}`),
          prefix,
          fleet: 'sim:5',
          simStartDelay: '100ms',
          simFailImage: ':broken',
          pollInterval: '400ms',
          lockDuration: '3s',
        }),
      );
    }
    await waitFor('revision 1 rolled out', async () => isRolledOut(await view(), 1), 30_000);
  });

  after(async () => {
    for (const w of workers) await w.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  test('a never-ready revision is rolled back once, by a commit that says why', async () => {
    pushChange(remote, withImage('broken'), 'filebeat broken');
    await waitFor('an auto-rollback commit', async () => autoRollbacks(remote).length > 0, 30_000);
    const badHash = (await history()).find((e) => e.revision === 2)?.hash;
    await waitFor('revision 3 rolled out', async () => isRolledOut(await view(), 3), 30_000);
    await sleep(2500); // time for a second replica (or a second reconcile) to write another one
    const commits = autoRollbacks(remote);
    assert.equal(commits.length, 1, commits.map((c) => c.subject).join('\n'));
    const [commit] = commits;
    assert.equal(commit!.subject, 'Auto-roll back ds/filebeat-ds to revision 1 (progress deadline exceeded)');
    assert.match(commit!.body, /\nAuto-Rollback: ProgressDeadlineExceeded(\n|$)/);
    assert.match(commit!.body, /\nRollback-To-Revision: 1\n/);
    assert.match(commit!.body, new RegExp(`\\nRollback-Of-Revision-Hash: ${badHash}\\n`));
    assert.match(commit!.body, /stuck nodes: node-1/);
    assert.equal(execFileSync('git', ['show', 'main:filebeat-ds.yaml'], { cwd: remote.dir, encoding: 'utf8' }), GOOD);

    const entries = await history();
    assert.deepEqual(
      entries.map((e) => e.revision),
      [2, 3],
    );
    const v = (await view())!;
    const condition = v.status.conditions.find((c) => c.type === 'AutoRolledBack');
    assert.equal(condition?.status, 'True');
    assert.equal(condition?.reason, 'ProgressDeadlineExceeded');
    assert.match(condition!.message, /revision 2 was rolled back automatically to this template by commit [0-9a-f]{7}/);
    const event = (await events()).filter((e) => e.reason === 'AutoRollback');
    assert.equal(event.length, 1);
    assert.equal(event[0]!.type, 'Warning');
    assert.match(
      event[0]!.message,
      /rolled back from revision 2 to revision 1 \(commit [0-9a-f]{7}\): ProgressDeadlineExceeded/,
    );
  });

  test('the same bad template pushed again is not rolled back a second time', async () => {
    pushChange(remote, withImage('broken'), 'filebeat broken, again');
    await waitFor(
      'revision 4 (the bad template reused)',
      async () => (await view())?.status.updateRevisionNumber === 4,
    );
    await waitFor(
      'the deadline passes',
      async () => (await view())?.status.conditions.some((c) => c.reason === 'ProgressDeadlineExceeded') === true,
      20_000,
    );
    await sleep(2000);
    assert.equal(autoRollbacks(remote).length, 1);
  });

  test('a later failure never rolls back to a revision that was itself rolled back automatically', async () => {
    // History now: 3 (good), 4 (the bad template, rolled back before). A new bad template:
    pushChange(remote, withImage('broken-again'), 'filebeat broken differently');
    await waitFor('a second auto-rollback commit', async () => autoRollbacks(remote).length === 2, 30_000);
    const latest = autoRollbacks(remote)[0]!;
    assert.match(latest.subject, /to revision 3 /, `skipped revision 4: ${latest.subject}`);
    await waitFor('the good template rolled out again', async () => isRolledOut(await view(), 6), 30_000);
  });
});
