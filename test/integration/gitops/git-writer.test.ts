/**
 * Changes written to a real bare remote: rollback with every comment kept, dry run, unknown revision, races with
 * someone else's push and with a second writer (no lost update), a read-only remote (the patch to apply by hand),
 * the committer identity, and no token in any message.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { Lexer } from 'yaml';
import { GitPushRejectedError, GitWriteError, RevisionNotFoundError } from '../../../src/gitops/errors.js';
import { GitWriter, sshCommandForKey } from '../../../src/gitops/git-writer.js';
import { withLocalGitOps } from '../../../src/gitops/local.js';
import { GitOpsService } from '../../../src/gitops/service.js';
import { MemoryHistoryStore } from '../../../src/revision/memory-store.js';
import { GitSync } from '../../../src/source/git-sync.js';
import { SimpleGitSource } from '../../../src/source/simple-git-source.js';
import {
  commitFiles,
  makeBareRemote,
  makeRepo,
  push,
  removeTempDirs,
  tempDir,
  type TestRepo,
} from '../../helpers/git.js';

const FILEBEAT = readFileSync(new URL('../../../manifests-example/filebeat-ds.yaml', import.meta.url), 'utf8');
const V565 = FILEBEAT;
const V566 = FILEBEAT.replace('ikubernetes/filebeat:5.6.5-alpine', 'ikubernetes/filebeat:5.6.6-alpine');
const REF = { namespace: 'default', name: 'filebeat-ds' };

function comments(text: string): string[] {
  return [...new Lexer().lex(text)].filter((t) => t.startsWith('#')).sort();
}

/** The remote's file at the branch tip, and its log (subjects, newest first). */
function remoteFile(remote: TestRepo, path: string): string {
  return execFileSync('git', ['show', `main:${path}`], { cwd: remote.dir, encoding: 'utf8' });
}
function remoteLog(remote: TestRepo, format = '%s'): string[] {
  return remote.git(['log', '--first-parent', `--format=${format}`, 'main']).split('\n');
}

/** A second person's clone of the remote. */
function cloneOf(remote: TestRepo): TestRepo {
  const repo = makeRepo();
  repo.git(['fetch', '--quiet', remote.dir, 'main']);
  repo.git(['reset', '--quiet', '--hard', 'FETCH_HEAD']);
  return repo;
}

async function historyOf(remote: TestRepo): Promise<{ revision: number; hash: string; subject: string }[]> {
  const store = new MemoryHistoryStore();
  const source = new SimpleGitSource({ url: remote.dir, branch: 'main', dir: join(tempDir('dsctl-read'), 'clone') });
  await new GitSync({ source, store }).sync({ force: true });
  return ((await store.getDaemonSet('default/filebeat-ds'))?.history.revisions ?? []).map((r) => ({
    revision: r.revision,
    hash: r.hash,
    subject: r.subject,
  }));
}

/** A service on its own clone, with an optional hook between commit and push. */
function serviceFor(remote: TestRepo, beforePush?: (attempt: number) => Promise<void>): GitOpsService {
  const writer = new GitWriter({
    url: remote.dir,
    branch: 'main',
    dir: join(tempDir('dsctl-work'), 'clone'),
    identity: { name: 'Rollback Bot', email: 'bot@example.com' },
    ...(beforePush ? { beforePush } : {}),
  });
  const store = new MemoryHistoryStore();
  const sync = new GitSync({
    source: new SimpleGitSource({ url: remote.dir, branch: 'main', dir: join(tempDir('dsctl-read'), 'clone') }),
    store,
  });
  return new GitOpsService({
    writer,
    history: async (key) => {
      await sync.sync({ force: true });
      return store.getDaemonSet(key);
    },
  });
}

describe('Git-written changes on a bare remote', { timeout: 120_000 }, () => {
  let remote: TestRepo;
  let author: TestRepo;

  beforeEach(() => {
    remote = makeBareRemote();
    author = makeRepo();
    commitFiles(author, { 'filebeat-ds.yaml': V565 }, 'filebeat 5.6.5', { name: 'Ada', date: '2024-01-01T00:00:00Z' });
    commitFiles(author, { 'filebeat-ds.yaml': V566 }, 'filebeat 5.6.6', { name: 'Ada', date: '2024-01-02T00:00:00Z' });
    push(author, remote);
  });

  after(() => removeTempDirs());

  test('rollout undo --to-revision 1 restores the template, keeps every comment, and the history reuses 1 as 3', async () => {
    const headBefore = remote.git(['rev-parse', 'main']);
    const result = await withLocalGitOps({ repo: remote.dir }, (svc) => svc.rollback(REF, { toRevision: 1 }));
    assert.equal(result.outcome, 'committed');
    assert.equal(result.message, 'daemonset.apps/filebeat-ds rolled back');
    assert.equal(result.revision, 1);
    const file = remoteFile(remote, 'filebeat-ds.yaml');
    assert.equal(file, V565, 'the file is back to revision 1 byte for byte (only the image line changed)');
    assert.deepEqual(comments(file), comments(V566));
    const [subject] = remoteLog(remote);
    assert.equal(subject, 'Roll back ds/filebeat-ds to revision 1');
    const body = remote.git(['log', '-1', '--format=%B', 'main']);
    assert.match(body, /filebeat: ikubernetes\/filebeat:5\.6\.6-alpine -> ikubernetes\/filebeat:5\.6\.5-alpine/);
    assert.match(body, /\nRollback-To-Revision: 1\n/);
    const rev2Commit = remote.git(['rev-parse', 'main~1']);
    assert.equal(rev2Commit, headBefore);
    assert.match(body, new RegExp(`\\nRollback-Of-Commit: ${rev2Commit}$`));
    assert.equal(remote.git(['log', '-1', '--format=%cn <%ce>', 'main']), 'dsctl <dsctl@localhost>');

    const history = await historyOf(remote);
    assert.deepEqual(
      history.map((r) => r.revision),
      [2, 3],
    );
    assert.equal(history[1]!.subject, 'Roll back ds/filebeat-ds to revision 1');
  });

  test('the reused revision keeps revision 1 hash', async () => {
    const hashBefore = (await historyOf(remote))[0]!.hash;
    await withLocalGitOps({ repo: remote.dir }, (svc) => svc.rollback(REF, { toRevision: 1 }));
    const history = await historyOf(remote);
    assert.equal(history.at(-1)!.hash, hashBefore);
  });

  test('undo without a revision goes to the one before the current; again toggles back', async () => {
    const svc = serviceFor(remote);
    const r1 = await svc.rollback(REF, {});
    assert.equal(r1.revision, 1);
    assert.equal(remoteFile(remote, 'filebeat-ds.yaml'), V565);
    const r2 = await svc.rollback(REF, {});
    assert.equal(r2.revision, 2);
    assert.equal(remoteFile(remote, 'filebeat-ds.yaml'), V566);
    assert.deepEqual(
      (await historyOf(remote)).map((r) => r.revision),
      [3, 4],
    );
  });

  test('--dry-run prints diff and message and writes nothing', async () => {
    const head = remote.git(['rev-parse', 'main']);
    const result = await serviceFor(remote).rollback(REF, { toRevision: 1, dryRun: true });
    assert.equal(result.outcome, 'dry-run');
    assert.equal(result.message, 'daemonset.apps/filebeat-ds rolled back (dry run)');
    assert.match(result.diff!, /^--- a\/filebeat-ds\.yaml\n\+\+\+ b\/filebeat-ds\.yaml\n@@ /);
    assert.match(
      result.diff!,
      /\n-\s+image: ikubernetes\/filebeat:5\.6\.6-alpine\n\+\s+image: ikubernetes\/filebeat:5\.6\.5-alpine\n/,
    );
    assert.match(result.commitMessage!, /^Roll back ds\/filebeat-ds to revision 1\n/);
    assert.equal(remote.git(['rev-parse', 'main']), head, 'nothing pushed');
  });

  test('an unknown revision is an error listing the ones that exist; a match is skipped', async () => {
    const svc = serviceFor(remote);
    await assert.rejects(
      svc.rollback(REF, { toRevision: 7 }),
      (err: unknown) =>
        err instanceof RevisionNotFoundError &&
        err.message === 'unable to find specified revision 7 in history (revisions: 1, 2)',
    );
    const skipped = await svc.rollback(REF, { toRevision: 2 });
    assert.equal(skipped.outcome, 'skipped');
    assert.equal(
      skipped.message,
      'daemonset.apps/filebeat-ds skipped rollback (current template already matches revision 2)',
    );
    assert.equal(remoteLog(remote).length, 2);
  });

  test('someone else pushes between our fetch and push: the retry lands both commits', async () => {
    const someone = cloneOf(remote);
    let raced = false;
    const svc = serviceFor(remote, async (attempt) => {
      if (attempt !== 1) return;
      // A label change to the same file, pushed after our commit was made and before our push.
      commitFiles(
        someone,
        {
          'filebeat-ds.yaml': V566.replace(
            '  labels:\n    app: filebeat\n',
            '  labels:\n    app: filebeat\n    team: logs\n',
          ),
        },
        'label the DaemonSet',
        { name: 'Bob', date: '2024-01-03T00:00:00Z' },
      );
      push(someone, remote);
      raced = true;
    });
    const result = await svc.rollback(REF, { toRevision: 1 });
    assert.ok(raced);
    assert.equal(result.outcome, 'committed');
    assert.equal(result.attempts, 2, 'the first push lost the race');
    assert.deepEqual(remoteLog(remote).slice(0, 3), [
      'Roll back ds/filebeat-ds to revision 1',
      'label the DaemonSet',
      'filebeat 5.6.6',
    ]);
    const file = remoteFile(remote, 'filebeat-ds.yaml');
    assert.match(file, /team: logs/, "the other person's change survived");
    assert.match(file, /image: ikubernetes\/filebeat:5\.6\.5-alpine/, 'and ours is on top of it');
  });

  test('two writers at once (set image and pause, separate clones): both land, no lost update', async () => {
    let releaseFirst!: () => void;
    const secondPushed = new Promise<void>((r) => (releaseFirst = r));
    const first = serviceFor(remote, async (attempt) => {
      if (attempt === 1) await secondPushed; // commit made on the old tip; push only after the other one landed
    });
    const second = serviceFor(remote);
    const a = first.setImage(REF, { images: { filebeat: 'ikubernetes/filebeat:5.6.7-alpine' } });
    const b = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      const result = await second.setPaused(REF, { paused: true });
      releaseFirst();
      return result;
    })();
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(rb.outcome, 'committed');
    assert.equal(rb.message, 'daemonset.apps/filebeat-ds paused');
    assert.equal(ra.outcome, 'committed');
    assert.equal(ra.message, 'daemonset.apps/filebeat-ds image updated');
    assert.equal(ra.attempts, 2);
    const file = remoteFile(remote, 'filebeat-ds.yaml');
    assert.match(file, /dsctl\.dev\/paused: "true"/);
    assert.match(file, /image: ikubernetes\/filebeat:5\.6\.7-alpine/);
    assert.deepEqual(comments(file), comments(V566));
    assert.deepEqual(remoteLog(remote).slice(0, 2), [
      'Set image of ds/filebeat-ds: filebeat=ikubernetes/filebeat:5.6.7-alpine',
      'Pause rollout of ds/filebeat-ds',
    ]);
  });

  test('a read-only remote: the error says so and carries a patch that git am applies', async () => {
    const hook = join(remote.dir, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "this mirror is read-only" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const head = remote.git(['rev-parse', 'main']);
    let error: unknown;
    try {
      await serviceFor(remote).rollback(REF, { toRevision: 1 });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof GitPushRejectedError, String(error));
    assert.match(error.message, /refused the push \(pre-receive hook declined; this mirror is read-only\)/);
    assert.match(error.message, /not writable for dsctl/);
    assert.match(error.patch, /^From [0-9a-f]{40} /);
    assert.match(error.patch, /Subject: \[PATCH\] Roll back ds\/filebeat-ds to revision 1/);
    assert.equal(remote.git(['rev-parse', 'main']), head);
    // The patch applies by hand.
    const person = cloneOf(remote);
    writeFileSync(join(person.dir, 'fix.patch'), error.patch);
    person.git(['am', '--quiet', 'fix.patch'], {
      GIT_COMMITTER_NAME: 'Person',
      GIT_COMMITTER_EMAIL: 'p@example.com',
    });
    assert.equal(readFileSync(join(person.dir, 'filebeat-ds.yaml'), 'utf8'), V565);
  });

  test('an SSH command reaches git through both simple-git opt-ins; --ssh-key builds ssh -i', async () => {
    assert.equal(sshCommandForKey('/secrets/id_ed25519'), "ssh -i '/secrets/id_ed25519' -o IdentitiesOnly=yes");
    assert.throws(() => sshCommandForKey("/tmp/it's"), GitWriteError);
    const dir = tempDir('dsctl-ssh');
    const log = join(dir, 'ssh-args');
    const fake = join(dir, 'fake-ssh');
    writeFileSync(fake, `#!/bin/sh\necho "$@" > '${log}'\necho "fake ssh: no route" >&2\nexit 255\n`);
    chmodSync(fake, 0o755);
    const writer = new GitWriter({
      url: 'ssh://git@git.example.invalid/acme/daemonsets.git',
      branch: 'main',
      dir: join(dir, 'clone'),
      sshCommand: `${fake} -i /secrets/key -o IdentitiesOnly=yes`,
    });
    await assert.rejects(
      writer.write(async () => ({ skip: 'unreachable' })),
      GitWriteError,
    );
    const args = readFileSync(log, 'utf8');
    assert.match(args, /-i \/secrets\/key -o IdentitiesOnly=yes/);
    assert.match(args, /git@git\.example\.invalid/);
    assert.match(args, /git-upload-pack '\/acme\/daemonsets\.git'/);
  });

  test('an HTTPS token never shows up in an error', async () => {
    const token = 'ghp_SuperSecretToken1234567890';
    const writer = new GitWriter({
      url: `https://x-access-token:${token}@127.0.0.1:9/acme/repo.git`,
      branch: 'main',
      dir: join(tempDir('dsctl-work'), 'clone'),
      token,
      networkTimeoutMs: 10_000,
    });
    await assert.rejects(
      writer.write(async () => ({ skip: 'unreachable' })),
      (err: unknown) => {
        assert.ok(err instanceof GitWriteError, String(err));
        assert.ok(!err.message.includes(token), err.message);
        assert.ok(!err.message.includes(Buffer.from(`x-access-token:${token}`).toString('base64')), err.message);
        assert.match(err.message, /git fetch https:\/\/\*\*\*@127\.0\.0\.1:9\/acme\/repo\.git/);
        return true;
      },
    );
  });
});
