import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InvalidSourceInputError, GitSourceError } from '../../../src/source/errors.js';
import { parseCatFileBatch, parseLogOutput, LOG_FORMAT } from '../../../src/source/git-log.js';
import { isManifestPath } from '../../../src/source/manifest-file.js';
import { redactUrl, sanitizeMessage, urlSecrets } from '../../../src/source/redact.js';
import { repoCacheDir, SimpleGitSource } from '../../../src/source/simple-git-source.js';
import { validateBranch, validatePath, validateRepoUrl } from '../../../src/source/validate.js';
import {
  commitFiles,
  makeBareRemote,
  makeRepo,
  push,
  removeTempDirs,
  resetHard,
  tempDir,
  type TestRepo,
} from '../../helpers/git.js';
import { by } from './fixtures.js';

after(() => removeTempDirs());

function sourceFor(repo: TestRepo, branch = 'main'): SimpleGitSource {
  return new SimpleGitSource({ url: repo.dir, branch, dir: tempDir('dsctl-clone') });
}

describe('SimpleGitSource on a real repository', () => {
  test('fetch keeps a bare clone in the data dir and returns the branch head', async () => {
    const repo = makeRepo();
    commitFiles(repo, { 'deploy/a.yaml': 'a: 1\n' }, 'first', by('Alice', 1));
    const dataDir = tempDir('dsctl-data');
    const dir = repoCacheDir(dataDir, repo.dir);
    assert.match(dir, /\/repos\/[0-9a-f]{64}$/);
    const source = new SimpleGitSource({ url: repo.dir, branch: 'main', dir });
    assert.equal(await source.fetch(), repo.head());
    assert.equal(existsSync(join(dir, 'HEAD')), true);
    assert.equal(existsSync(join(dir, '.git')), false, 'bare clone');
    commitFiles(repo, { 'deploy/a.yaml': 'a: 2\n' }, 'second', by('Alice', 2));
    assert.equal(await source.fetch(), repo.head());
  });

  test('listChanges: first-parent commits touching the path, oldest first, with blob ids', async () => {
    const repo = makeRepo();
    const c1 = commitFiles(
      repo,
      { 'deploy/a.yaml': 'a: 1\n', 'deploy/b.yml': 'b: 1\n', 'other/x.yaml': 'x\n' },
      'first: with a colon',
      by('Ådа Lovelace', 1),
    );
    commitFiles(repo, { 'other/x.yaml': 'y\n' }, 'outside the path', by('Bob', 2));
    const c3 = commitFiles(repo, { 'deploy/a.yaml': null, 'deploy/sub/c.json': '{}' }, 'delete a, add c', by('Bob', 3));
    const source = sourceFor(repo);
    const head = await source.fetch();
    const all = await source.listChanges(null, head, 'deploy');
    assert.deepEqual(
      all.map((c) => c.commit),
      [c1, c3],
    );
    assert.equal(all[0]!.author, 'Ådа Lovelace');
    assert.equal(all[0]!.subject, 'first: with a colon');
    assert.equal(all[0]!.date, '2024-01-01T10:00:00+00:00');
    assert.deepEqual(all[0]!.parents, []);
    assert.deepEqual(
      all[1]!.files.map((f) => [f.path, f.status, f.blob === null]),
      [
        ['deploy/a.yaml', 'D', true],
        ['deploy/sub/c.json', 'A', false],
      ],
    );
    const blob = all[1]!.files[1]!.blob!;
    assert.equal(repo.git(['rev-parse', `${c3}:deploy/sub/c.json`]), blob);
    assert.deepEqual(
      (await source.listChanges(c1, head, 'deploy')).map((c) => c.commit),
      [c3],
    );
    assert.deepEqual(
      (await source.listChanges(c1, head, '')).map((c) => c.subject),
      ['outside the path', 'delete a, add c'],
    );
  });

  test('readBlobs reads many blobs in one batch, byte-exact with multi-byte text', async () => {
    const repo = makeRepo();
    const texts: Record<string, string> = {};
    for (let i = 0; i < 50; i++) texts[`deploy/f${i}.yaml`] = `name: "ünïcødé ✓ ${i}"\n${'x'.repeat(i * 37)}\n`;
    commitFiles(repo, texts, 'many', by('Alice', 1));
    const source = sourceFor(repo);
    const head = await source.fetch();
    const [commit] = await source.listChanges(null, head, 'deploy');
    const blobs = await source.readBlobs(commit!.files.map((f) => f.blob!));
    assert.equal(blobs.size, 50);
    for (const f of commit!.files) assert.equal(blobs.get(f.blob!), texts[f.path]);
    assert.equal((await source.readBlobs(['0'.repeat(40)])).size, 0, 'missing blobs are skipped');
  });

  test('checkCursor: fast-forward, force-push, foxtrot merge and unknown commits', async () => {
    const remote = makeBareRemote();
    const work = makeRepo();
    const c1 = commitFiles(work, { 'a.yaml': '1' }, 'c1', by('Alice', 1));
    const c2 = commitFiles(work, { 'a.yaml': '2' }, 'c2', by('Alice', 2));
    push(work, remote);
    const source = new SimpleGitSource({ url: remote.dir, branch: 'main', dir: tempDir('dsctl-clone') });
    assert.equal(await source.fetch(), c2);
    assert.equal(await source.checkCursor(c1, c2), 'descendant');
    assert.equal(await source.checkCursor(c2, c2), 'descendant');
    assert.equal(await source.checkCursor('f'.repeat(40), c2), 'unknown');

    resetHard(work, c1);
    const c2b = commitFiles(work, { 'a.yaml': '2b' }, 'c2b', by('Bob', 3));
    push(work, remote, { force: true });
    assert.equal(await source.fetch(), c2b);
    assert.equal(await source.checkCursor(c2, c2b), 'diverged');

    // A merge that makes the old head a second parent is not a first-parent continuation.
    work.git(['checkout', '--quiet', '-b', 'side', c1]);
    const side = commitFiles(work, { 'b.yaml': 'side' }, 'side', by('Bob', 4));
    work.git(['merge', '--quiet', '--no-ff', '-m', 'foxtrot', 'main'], {
      GIT_AUTHOR_NAME: 'x',
      GIT_AUTHOR_EMAIL: 'x@x',
      GIT_COMMITTER_NAME: 'x',
      GIT_COMMITTER_EMAIL: 'x@x',
    });
    const foxtrot = work.head();
    assert.equal(work.git(['rev-parse', `${foxtrot}^1`]), side);
    assert.equal(await source.checkCursor(c2b, c2b), 'descendant');
    push(work, remote, { branch: 'side' });
    const sideSource = new SimpleGitSource({ url: remote.dir, branch: 'side', dir: tempDir('dsctl-clone') });
    assert.equal(await sideSource.fetch(), foxtrot);
    assert.equal(await sideSource.checkCursor(side, foxtrot), 'descendant');
    // c2b is an ancestor of the foxtrot merge, but only through its second parent.
    assert.equal(work.git(['merge-base', '--is-ancestor', c2b, foxtrot]), '');
    assert.equal(await sideSource.checkCursor(c2b, foxtrot), 'diverged');
  });

  test('a missing branch or repository is a GitSourceError without credentials', async () => {
    const repo = makeRepo();
    commitFiles(repo, { 'a.yaml': '1' }, 'c1');
    await assert.rejects(sourceFor(repo, 'nope').fetch(), (err: unknown) => {
      assert.ok(err instanceof GitSourceError);
      assert.match(err.message, /nope|couldn't find|not found/i);
      return true;
    });
    const secret = new SimpleGitSource({
      url: 'https://x-access-token:ghp_SECRET123@127.0.0.1:9/org/repo.git',
      branch: 'main',
      dir: tempDir('dsctl-clone'),
      networkTimeoutMs: 10_000,
    });
    assert.equal(secret.displayUrl, 'https://***@127.0.0.1:9/org/repo.git');
    await assert.rejects(secret.fetch(), (err: unknown) => {
      assert.ok(err instanceof GitSourceError);
      assert.doesNotMatch(err.message, /SECRET123|x-access-token:/);
      return true;
    });
    const withToken = new SimpleGitSource({
      url: 'https://127.0.0.1:9/org/repo.git',
      branch: 'main',
      dir: tempDir('dsctl-clone'),
      token: 'tok_SECRET456',
      networkTimeoutMs: 10_000,
    });
    await assert.rejects(withToken.fetch(), (err: unknown) => {
      assert.ok(err instanceof GitSourceError);
      assert.doesNotMatch(err.message, /SECRET456/);
      return true;
    });
  });

  test('ambient GIT_* variables do not leak into git (never spread process.env)', async () => {
    const repo = makeRepo();
    const c1 = commitFiles(repo, { 'deploy/a.yaml': 'a: 1\n' }, 'c1');
    const saved = process.env['GIT_DIR'];
    process.env['GIT_DIR'] = '/nonexistent';
    try {
      const source = sourceFor(repo);
      assert.equal(await source.fetch(), c1);
    } finally {
      if (saved === undefined) delete process.env['GIT_DIR'];
      else process.env['GIT_DIR'] = saved;
    }
  });
});

describe('input validation', () => {
  const bad = <T>(fn: () => T): void => assert.throws(fn, InvalidSourceInputError);

  test('branches', () => {
    for (const ok of ['main', 'release/1.2', 'feature_x-y']) assert.equal(validateBranch(ok), ok);
    for (const b of [
      '',
      '-x',
      '--upload-pack=evil',
      'a..b',
      'a b',
      'a/',
      '/a',
      'a//b',
      'x.lock',
      'HEAD',
      '.hidden',
      'a;b',
    ]) {
      bad(() => validateBranch(b));
    }
  });

  test('paths', () => {
    assert.equal(validatePath(''), '');
    assert.equal(validatePath('.'), '');
    assert.equal(validatePath('./deploy/'), 'deploy');
    assert.equal(validatePath('clusters/prod/ds'), 'clusters/prod/ds');
    for (const p of ['../x', 'a/../../b', '-x', 'a/-b', ':(glob)*', 'a*', 'a?b', '[ab]', 'a\nb'])
      bad(() => validatePath(p));
  });

  test('repository URLs', () => {
    assert.equal(validateRepoUrl('https://github.com/org/repo.git'), 'https://github.com/org/repo.git');
    assert.equal(validateRepoUrl('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
    assert.equal(validateRepoUrl('ssh://git@host/repo'), 'ssh://git@host/repo');
    assert.equal(validateRepoUrl('repo', '/tmp'), '/tmp/repo');
    for (const u of ['', '-oProxyCommand=x', 'ext::sh -c touch% /tmp/pwned', 'fd::17', 'foo://bar', 'a\nb']) {
      bad(() => validateRepoUrl(u));
    }
  });

  test('manifest files', () => {
    for (const p of ['a.yaml', 'b/c.YML', 'd.json']) assert.equal(isManifestPath(p), true);
    for (const p of ['README.md', 'kustomization.yaml.bak', 'x.yamlx']) assert.equal(isManifestPath(p), false);
  });
});

describe('credential redaction', () => {
  test('redactUrl hides userinfo of scheme URLs only', () => {
    assert.equal(redactUrl('https://user:pass@host/r.git'), 'https://***@host/r.git');
    assert.equal(redactUrl('https://TOKEN@host/r.git'), 'https://***@host/r.git');
    assert.equal(redactUrl('git@github.com:org/r.git'), 'git@github.com:org/r.git');
    assert.equal(redactUrl('/srv/git/r'), '/srv/git/r');
  });

  test('sanitizeMessage removes URLs, secrets and auth headers from git errors', () => {
    const url = 'https://bot:p%40ss-w0rd@host/r.git';
    const msg = sanitizeMessage(
      "fatal: unable to access 'https://bot:p%40ss-w0rd@host/r.git/': p@ss-w0rd rejected\nAuthorization: Basic Zm9vOmJhcg==",
      urlSecrets(url),
    );
    assert.doesNotMatch(msg, /p%40ss|p@ss-w0rd|Zm9vOmJhcg/);
    assert.match(msg, /https:\/\/\*\*\*@host/);
  });
});

describe('git output parsing', () => {
  test('parseLogOutput reads records, merges and odd subjects', () => {
    const sha = (c: string): string => c.repeat(40);
    const out =
      `\x1e${sha('a')}\x1f\x1fAda\x1fa@x\x1f2024-01-01T00:00:00Z\x1fsubject with \x1f inside\0\n` +
      `:000000 100644 ${sha('0')} ${sha('b')} A\0deploy/x.yaml\0` +
      `:100644 120000 ${sha('b')} ${sha('c')} T\0deploy/link.yaml\0` +
      `:000000 160000 ${sha('0')} ${sha('f')} A\0deploy/module.yaml\0` +
      `\x1e${sha('d')}\x1f${sha('a')} ${sha('e')}\x1fBo\x1fb@x\x1f2024-01-02T00:00:00Z\x1fmerge\0\n` +
      `:100644 000000 ${sha('b')} ${sha('0')} D\0deploy/x.yaml\0` +
      `:120000 000000 ${sha('c')} ${sha('0')} D\0deploy/link.yaml\0`;
    const commits = parseLogOutput(out);
    assert.equal(commits.length, 2);
    assert.equal(commits[0]!.subject, 'subject with \x1f inside');
    assert.deepEqual(commits[0]!.files, [
      { path: 'deploy/x.yaml', status: 'A', blob: sha('b') },
      // Never read: no blob, and flagged so that the sync reports them instead of reading a deletion.
      { path: 'deploy/link.yaml', status: 'T', blob: null, notRegular: 'symbolic link' },
      { path: 'deploy/module.yaml', status: 'A', blob: null, notRegular: 'submodule' },
    ]);
    assert.deepEqual(commits[1]!.parents, [sha('a'), sha('e')]);
    assert.deepEqual(commits[1]!.files, [
      { path: 'deploy/x.yaml', status: 'D', blob: null },
      { path: 'deploy/link.yaml', status: 'D', blob: null },
    ]);
    assert.deepEqual(parseLogOutput(''), []);
    assert.match(LOG_FORMAT, /%aI/);
  });

  test('parseCatFileBatch uses byte sizes', () => {
    const body = Buffer.from('é\n✓', 'utf8');
    const buf = Buffer.concat([
      Buffer.from(`${'a'.repeat(40)} blob ${body.length}\n`),
      body,
      Buffer.from('\n'),
      Buffer.from(`${'b'.repeat(40)} missing\n`),
    ]);
    assert.deepEqual([...parseCatFileBatch(buf)], [['a'.repeat(40), 'é\n✓']]);
  });
});
