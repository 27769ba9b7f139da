/**
 * The low-latency paths of the Git source: the one-walk cursor check (`changesSince`) against the
 * two-command one, the local repository fast path (branch ref read from its files), ref-file
 * parsing, and the long-lived `git cat-file --batch` reader (restarts, large objects, exit of Node).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GitSourceError } from '../../../src/source/errors.js';
import { firstParentVerdict } from '../../../src/source/git-log.js';
import { CatFileBatch, GitCommandError, startGit, type StartedGit } from '../../../src/source/git-process.js';
import { readBranchRef, sharedSourceGitDir } from '../../../src/source/git-refs.js';
import { GitSync } from '../../../src/source/git-sync.js';
import { SimpleGitSource } from '../../../src/source/simple-git-source.js';
import { MemoryHistoryStore } from '../../../src/revision/memory-store.js';
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

const MERGE_ENV = {
  GIT_AUTHOR_NAME: 'm',
  GIT_AUTHOR_EMAIL: 'm@example.com',
  GIT_AUTHOR_DATE: '2024-02-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'm',
  GIT_COMMITTER_EMAIL: 'm@example.com',
  GIT_COMMITTER_DATE: '2024-02-01T00:00:00Z',
};

function sourceFor(url: string, branch = 'main'): SimpleGitSource {
  return new SimpleGitSource({ url, branch, dir: tempDir('dsctl-clone') });
}

/** The `git log --stdin` a source keeps started for its next walk, if any. */
function primedLog(source: SimpleGitSource): StartedGit | undefined {
  return (source as unknown as { primedLog?: StartedGit }).primedLog;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readerPid(source: SimpleGitSource): number | undefined {
  return (source as unknown as { batch: CatFileBatch }).batch.pid;
}

function ds(name: string, image: string): string {
  return `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ${name}, namespace: default}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: ${name}, image: "${image}"}]}
`;
}

/**
 * A history with every shape the walk must handle: changes inside and outside the tracked paths,
 * an empty commit, a root-level manifest, a directory named like a manifest, and merges whose
 * first-parent diff does and does not touch the path.
 */
function historyRepo(): { repo: TestRepo; chain: string[]; side: string } {
  const repo = makeRepo();
  const chain: string[] = [];
  chain.push(commitFiles(repo, { 'deploy/a.yaml': 'a: 1\n', 'ds.yaml': 'r: 1\n' }, 'c1', by('Alice', 1)));
  chain.push(commitFiles(repo, { 'other/x.yaml': 'x\n' }, 'outside', by('Alice', 2)));
  chain.push(commitFiles(repo, {}, 'empty', by('Alice', 3)));
  chain.push(commitFiles(repo, { 'deploy/a.yaml': 'a: 2\n', 'deploy/sub/b.json': '{}' }, 'c4', by('Alice', 4)));
  repo.git(['checkout', '--quiet', '-b', 'side']);
  const side = commitFiles(repo, { 'deploy/a.yaml': 'a: side\n', 'ds.yaml': 'r: side\n' }, 'side', by('Bob', 5));
  commitFiles(repo, { 'other/y.yaml': 'y\n' }, 'side outside', by('Bob', 6));
  repo.git(['checkout', '--quiet', 'main']);
  chain.push(commitFiles(repo, { 'top.yaml': 't: 1\n' }, 'root file', by('Alice', 7)));
  repo.git(['merge', '--quiet', '--no-ff', '-m', 'merge side', 'side'], MERGE_ENV);
  chain.push(repo.head());
  repo.git(['checkout', '--quiet', '-b', 'noop', chain[1]!]);
  commitFiles(repo, { 'deploy/a.yaml': 'a: side\n' }, 'same content', by('Bob', 8));
  repo.git(['checkout', '--quiet', 'main']);
  repo.git(['merge', '--quiet', '--no-ff', '-m', 'merge noop', 'noop'], MERGE_ENV);
  chain.push(repo.head());
  chain.push(commitFiles(repo, { 'deploy/x.yaml/inner.yaml': 'i: 1\n', 'deploy/a.yaml': null }, 'dir', by('Alice', 9)));
  return { repo, chain, side };
}

describe('changesSince: one walk, same answer as checkCursor + listChanges', () => {
  test('every cursor on and off the chain, every kind of path', async () => {
    const { repo, chain, side } = historyRepo();
    const source = sourceFor(repo.dir);
    const head = await source.fetch();
    assert.equal(head, chain.at(-1));
    const paths = [
      '',
      'deploy',
      'deploy/sub',
      'deploy/a.yaml',
      'ds.yaml',
      'top.yaml',
      'deploy/x.yaml',
      'missing/dir',
      'nope.yaml',
    ];
    const cursors = [...chain, side, repo.git(['rev-parse', 'side']), 'f'.repeat(40)];
    // Heads: after an empty commit, after each merge, the tip.
    const targets = [chain[2]!, chain[5]!, chain[6]!, head];
    const outcomes = new Set<string>();
    for (const target of targets) {
      for (const cursor of cursors) {
        const check = await source.checkCursor(cursor, target);
        outcomes.add(check);
        for (const path of paths) {
          const expected = {
            check,
            commits: check === 'descendant' ? await source.listChanges(cursor, target, path) : [],
          };
          assert.deepEqual(await source.changesSince(cursor, target, path), expected, `${cursor}..${target} ${path}`);
        }
      }
    }
    assert.deepEqual([...outcomes].sort(), ['descendant', 'diverged', 'unknown']);
    // The walk saw the merges and the root-level file.
    const subjectsOf = async (path: string): Promise<string[]> =>
      (await source.changesSince(chain[0]!, head, path)).commits.map((c) => c.subject);
    assert.deepEqual(await subjectsOf('ds.yaml'), ['merge side']);
    assert.deepEqual(await subjectsOf('top.yaml'), ['root file']);
    assert.deepEqual(await subjectsOf('deploy'), ['c4', 'merge side', 'dir']);
    assert.deepEqual(await subjectsOf('deploy/x.yaml'), ['dir']);
    assert.equal((await subjectsOf('')).length, chain.length - 1, 'the root path keeps every commit');
  });

  test('firstParentVerdict decides only on a plain chain ending at the head', () => {
    const c = (commit: string, ...parents: string[]): { commit: string; parents: string[] } => ({ commit, parents });
    assert.equal(firstParentVerdict([c('b', 'a'), c('h', 'b')], 'a', 'h'), 'descendant');
    assert.equal(
      firstParentVerdict([c('b', 'x'), c('h', 'b', 'a')], 'a', 'h'),
      'diverged',
      'a is only a second parent',
    );
    assert.equal(firstParentVerdict([c('r'), c('h', 'r')], 'a', 'h'), 'diverged', 'unrelated history');
    assert.equal(firstParentVerdict([], 'a', 'h'), 'diverged', 'head behind the cursor');
    assert.equal(firstParentVerdict([c('b', 'a'), c('x', 'b')], 'a', 'h'), undefined, 'does not end at head');
    assert.equal(firstParentVerdict([c('b', 'a'), c('h', 'z')], 'a', 'h'), undefined, 'not linked by first parents');
  });
});

describe('local repository: branch head read from its ref files', () => {
  test('new commits, packed refs, a deleted branch', async () => {
    const repo = makeRepo();
    const c1 = commitFiles(repo, { 'deploy/a.yaml': 'a: 1\n' }, 'c1', by('Alice', 1));
    const source = sourceFor(repo.dir);
    assert.equal(await source.fetch(), c1);
    const c2 = commitFiles(repo, { 'deploy/a.yaml': 'a: 2\n' }, 'c2', by('Alice', 2));
    assert.equal(await source.fetch(), c2);

    repo.git(['pack-refs', '--all', '--prune']);
    assert.equal(await readBranchRef(join(repo.dir, '.git'), 'main'), c2, 'read from packed-refs');
    assert.equal(await source.fetch(), c2);
    const c3 = commitFiles(repo, { 'deploy/a.yaml': 'a: 3\n' }, 'c3', by('Alice', 3));
    assert.equal(await source.fetch(), c3, 'a loose ref wins over packed-refs');

    // A deleted branch: git fetch decides, and fails.
    const other = sourceFor(repo.dir, 'gone');
    repo.git(['branch', 'gone', c1]);
    assert.equal(await other.fetch(), c1);
    repo.git(['branch', '-D', 'gone']);
    await assert.rejects(other.fetch(), GitSourceError);
    repo.git(['branch', 'gone', c3]);
    assert.equal(await other.fetch(), c3);
  });

  test('a force-push to the local repository is detected without git fetch', async () => {
    const repo = makeRepo();
    commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:1') }, 'v1', by('Alice', 1));
    const source = sourceFor(repo.dir);
    const sync = new GitSync({ source, store: new MemoryHistoryStore(), path: 'deploy' });
    assert.equal((await sync.sync()).outcome, 'synced');
    const v2 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:2') }, 'v2', by('Alice', 2));
    let r = await sync.sync();
    assert.equal(r.head, v2);
    assert.equal(r.rebuilt, false);
    assert.equal(r.commits, 1);
    resetHard(repo, 'HEAD~1');
    commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:3') }, 'v3', by('Bob', 3));
    r = await sync.sync();
    assert.equal(r.rebuilt, true);
    assert.equal(r.reason, 'ForcePushed');
    resetHard(repo, 'HEAD~1');
    r = await sync.sync();
    assert.equal(r.reason, 'ForcePushed', 'a branch moved backwards');
    assert.equal(r.head, repo.head());
    await source.close();
  });

  test('ref files: loose, packed with peeled lines, symbolic and missing refs', async () => {
    const dir = tempDir('dsctl-refs');
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    execFileSync('mkdir', ['-p', join(dir, 'refs/heads/feature')]);
    writeFileSync(join(dir, 'refs/heads/main'), `${a}\n`);
    writeFileSync(join(dir, 'refs/heads/sym'), 'ref: refs/heads/main\n');
    writeFileSync(
      join(dir, 'packed-refs'),
      `# pack-refs with: peeled fully-peeled sorted\n${b} refs/heads/main\n${b} refs/heads/packed\n^${a}\n${a} refs/tags/x\n`,
    );
    assert.equal(await readBranchRef(dir, 'main'), a);
    assert.equal(await readBranchRef(dir, 'packed'), b);
    assert.equal(await readBranchRef(dir, 'sym'), undefined);
    assert.equal(await readBranchRef(dir, 'feature'), undefined, 'a directory, not a ref');
    assert.equal(await readBranchRef(dir, 'x'), undefined);
    assert.equal(await readBranchRef(join(dir, 'nowhere'), 'main'), undefined);

    const repo = makeRepo();
    commitFiles(repo, { 'a.yaml': '1' }, 'c1');
    const clone = sourceFor(repo.dir);
    await clone.fetch();
    assert.equal(await sharedSourceGitDir(clone.dir), join(repo.dir, '.git'));
    assert.equal(await sharedSourceGitDir(repo.dir), undefined, 'no alternates');
  });
});

describe('the long-lived cat-file reader', () => {
  test('many requests on one process, large and multi-byte objects, missing ones', async () => {
    const repo = makeRepo();
    const big = `${'ü✓'.repeat(300_000)}\n`;
    const texts: Record<string, string> = { 'deploy/big.yaml': big };
    for (let i = 0; i < 30; i++) texts[`deploy/f${i}.yaml`] = `n: ${i} ${'é'.repeat(i * 101)}\n`;
    commitFiles(repo, texts, 'files', by('Alice', 1));
    const source = sourceFor(repo.dir);
    const head = await source.fetch();
    const [commit] = await source.listChanges(null, head, 'deploy');
    const blobOf = new Map(commit!.files.map((f) => [f.path, f.blob!]));
    const pid = readerPid(source);
    assert.ok(pid, 'started by the fetch (peeling the head)');
    const all = await source.readBlobs([...blobOf.values(), '0'.repeat(40)]);
    assert.equal(all.size, 31);
    for (const [path, blob] of blobOf) assert.equal(all.get(blob), texts[path]);
    // Concurrent callers are served in turn by the same process.
    const ids = [...blobOf.values()];
    const answers = await Promise.all(ids.map((id) => source.readBlobs([id])));
    answers.forEach((m, i) => assert.equal(m.get(ids[i]!), all.get(ids[i]!)));
    assert.equal(readerPid(source), pid, 'one process for all of it');

    // Objects written after the reader started are found.
    const c2 = commitFiles(repo, { 'deploy/new.yaml': 'new: 1\n' }, 'new', by('Alice', 2));
    assert.equal(await source.fetch(), c2);
    const [added] = await source.listChanges(head, c2, 'deploy');
    assert.equal((await source.readBlobs([added!.files[0]!.blob!])).get(added!.files[0]!.blob!), 'new: 1\n');
    assert.equal(readerPid(source), pid);

    // A killed reader: the read still succeeds and a new process takes over.
    process.kill(pid, 'SIGKILL');
    assert.equal(
      (await source.readBlobs([blobOf.get('deploy/f3.yaml')!])).get(blobOf.get('deploy/f3.yaml')!),
      texts['deploy/f3.yaml'],
    );
    assert.equal((await source.readBlobs([blobOf.get('deploy/f4.yaml')!])).size, 1);
    assert.ok(readerPid(source) !== undefined && readerPid(source) !== pid);

    await source.close();
    assert.equal(readerPid(source), undefined);
    assert.equal((await source.readBlobs([blobOf.get('deploy/f5.yaml')!])).size, 1, 'usable after close');
    await source.close();
  });

  test('CatFileBatch: peeling, invalid names, restart after the process dies', async () => {
    const repo = makeRepo();
    const c1 = commitFiles(repo, { 'a.yaml': 'a\n' }, 'c1');
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, LC_ALL: 'C' };
    const batch = new CatFileBatch({ cwd: repo.dir, env, config: [], stallTimeoutMs: 10_000 });
    const [commit, missing] = await batch.get([`${c1}^{commit}`, 'f'.repeat(40)]);
    assert.equal(commit?.oid, c1);
    assert.equal(commit?.type, 'commit');
    assert.equal(missing, undefined);
    await assert.rejects(batch.get(['HEAD']), /invalid object name/);
    await assert.rejects(batch.get([`${c1}\n${c1}`]), /invalid object name/);
    // A path after `:` holds only validatePath's characters: no newline to split the request.
    await assert.rejects(batch.get([`${c1}:a\n${c1}`]), /invalid object name/);
    await assert.rejects(batch.get([`${c1}:`]), /invalid object name/);
    const [tree, inDir, noFile] = await batch.get([`${c1}^{tree}`, `${c1}:a.yaml`, `${c1}:no such.yaml`]);
    assert.equal(tree?.type, 'tree');
    assert.equal(inDir?.type, 'blob');
    assert.equal(noFile, undefined, 'a name with a space reported missing');
    const pid = batch.pid!;
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(batch.pid, undefined, 'noticed the exit');
    assert.equal((await batch.get([c1]))[0]?.type, 'commit');
    assert.notEqual(batch.pid, pid);
    await batch.close();
  });

  test('an open source never keeps Node from exiting', async () => {
    const repo = makeRepo();
    commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:1') }, 'v1');
    const script = join(tempDir('dsctl-script'), 'sync.mts');
    const modules = join(import.meta.dirname, '../../../src');
    writeFileSync(
      script,
      `import { GitSync } from ${JSON.stringify(join(modules, 'source/git-sync.ts'))};
import { SimpleGitSource } from ${JSON.stringify(join(modules, 'source/simple-git-source.ts'))};
import { MemoryHistoryStore } from ${JSON.stringify(join(modules, 'revision/memory-store.ts'))};
const source = new SimpleGitSource({ url: ${JSON.stringify(repo.dir)}, branch: 'main', dir: ${JSON.stringify(tempDir('dsctl-clone'))} });
const r = await new GitSync({ source, store: new MemoryHistoryStore(), path: 'deploy' }).sync();
console.log(r.outcome, r.changes.length);
`,
    );
    const started = Date.now();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`still running after 20 s: ${text}`));
      }, 20_000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    assert.equal(out.trim(), 'synced 1');
    assert.ok(Date.now() - started < 20_000);
  });
});

/** A repository with commits c1 and c2 of deploy/a.yaml, and a source on it. */
function twoCommits() {
  const repo = makeRepo();
  const c1 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:1') }, 'c1', by('Alice', 1));
  const c2 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:2') }, 'c2', by('Alice', 2));
  return { repo, c1, c2, source: sourceFor(repo.dir) };
}

describe('a git log started ahead (no process start on the way of a push)', () => {
  test("startGit: no stall timer before run; a killed or failing process rejects with git's words", async () => {
    const repo = makeRepo();
    const c1 = commitFiles(repo, { 'a.yaml': 'a\n' }, 'c1');
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, LC_ALL: 'C' };
    const options = { cwd: repo.dir, env, config: [], stallTimeoutMs: 200 };

    const waiting = startGit(['log', '--stdin', '--format=%H'], options);
    await sleep(500); // longer than the stall timeout: the timer starts with run
    assert.equal(waiting.exited, false);
    assert.equal((await waiting.run(`${c1}\n`)).toString().trim(), c1);
    assert.equal(waiting.exited, true);

    const killed = startGit(['log', '--stdin', '--format=%H'], options);
    killed.kill();
    await sleep(100);
    assert.equal(killed.exited, true);
    await assert.rejects(killed.run(`${c1}\n`), GitCommandError);

    const bad = startGit(['log', '--stdin', '--format=%H'], options);
    await assert.rejects(bad.run(`${'f'.repeat(40)}\n`), (err: unknown) => {
      assert.ok(err instanceof GitCommandError);
      assert.match(err.message, /bad object|unknown revision|bad revision/);
      return true;
    });
  });

  test('the next walk uses the process started ahead, sees commits made after it started, survives its death', async () => {
    const { repo, c1, c2, source } = twoCommits();
    try {
      await source.fetch();
      assert.deepEqual(
        (await source.changesSince(c1, c2, 'deploy')).commits.map((c) => c.subject),
        ['c2'],
      );
      assert.equal(primedLog(source), undefined, 'started a moment later, out of the way of the sync');
      await sleep(300);
      const primed = primedLog(source);
      assert.ok(primed && !primed.exited, 'a git log waits for the next walk');

      // Commits created after that process started are seen by it.
      const c3 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:3') }, 'c3', by('Bob', 3));
      assert.equal(await source.fetch(), c3);
      const since = await source.changesSince(c2, c3, 'deploy');
      assert.deepEqual(
        [since.check, since.commits.map((c) => [c.subject, c.files.map((f) => f.path)])],
        ['descendant', [['c3', ['deploy/a.yaml']]]],
      );
      assert.equal(primed.exited, true, 'that process did the walk');

      // The process started ahead dies: the next walk starts its own and answers the same.
      await sleep(300);
      const next = primedLog(source)!;
      next.kill();
      await sleep(100);
      const c4 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:4') }, 'c4', by('Bob', 4));
      await source.fetch();
      assert.deepEqual(
        (await source.changesSince(c3, c4, 'deploy')).commits.map((c) => c.subject),
        ['c4'],
      );
      await sleep(300);
      const last = primedLog(source)!;
      await source.close();
      assert.equal(primedLog(source), undefined);
      await sleep(100);
      assert.equal(last.exited, true, 'close stops the process started ahead');
    } finally {
      await source.close();
    }
  });

  test('a full walk (the first sync after a start) also has the next walk ready', async () => {
    const { repo, c2, source } = twoCommits();
    try {
      await source.fetch();
      assert.deepEqual(
        (await source.listChanges(null, c2, 'deploy')).map((c) => c.subject),
        ['c1', 'c2'],
      );
      await sleep(300);
      const primed = primedLog(source);
      assert.ok(primed && !primed.exited, 'a git log waits for the first push');
      const c3 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:3') }, 'c3', by('Bob', 3));
      await source.fetch();
      const batch = (source as unknown as { batch: CatFileBatch }).batch;
      const asked: string[] = [];
      const get = batch.get.bind(batch);
      batch.get = (names) => {
        asked.push(...names);
        return get(names);
      };
      assert.deepEqual(
        (await source.changesSince(c2, c3, 'deploy')).commits.map((c) => c.subject),
        ['c3'],
      );
      assert.equal(primed.exited, true, 'the first push was walked by it');
      assert.deepEqual(
        asked.filter((name) => name.startsWith(c2)),
        [],
        'the tree the first push is compared with was read ahead',
      );
      assert.ok(asked.includes(`${c3}:deploy`), 'the pushed tree is read');
    } finally {
      await source.close();
    }
  });

  test('the git log ahead waits while the event loop is busy (a big plan right after the sync), then starts', async () => {
    const { c1, c2, source } = twoCommits();
    try {
      await source.fetch();
      await source.changesSince(c1, c2, 'deploy');
      // As after a push to 10,000 nodes: a plan (one 200 ms task), then node jobs (short tasks).
      await new Promise((resolve) => setTimeout(resolve, 10));
      const planned = performance.now() + 200;
      while (performance.now() < planned);
      const busyUntil = performance.now() + 500;
      while (performance.now() < busyUntil) {
        const slice = performance.now() + 20;
        while (performance.now() < slice);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(primedLog(source), undefined, 'not started while the loop was busy');
      // Quiet now: it starts within a few looks (a loaded machine may make some timers late too).
      let primed = primedLog(source);
      for (let waited = 0; !primed && waited < 4000; waited += 50) {
        await sleep(50);
        primed = primedLog(source);
      }
      assert.ok(primed && !primed.exited, 'started once the loop went quiet');
    } finally {
      await source.close();
    }
  });

  test('a source with a git log started ahead never keeps Node from exiting', async () => {
    const repo = makeRepo();
    const c1 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:1') }, 'v1');
    const c2 = commitFiles(repo, { 'deploy/a.yaml': ds('agent', 'agent:2') }, 'v2');
    const script = join(tempDir('dsctl-script'), 'walk.mts');
    const modules = join(import.meta.dirname, '../../../src');
    writeFileSync(
      script,
      `import { SimpleGitSource } from ${JSON.stringify(join(modules, 'source/simple-git-source.ts'))};
const source = new SimpleGitSource({ url: ${JSON.stringify(repo.dir)}, branch: 'main', dir: ${JSON.stringify(tempDir('dsctl-clone'))} });
await source.fetch();
const since = await source.changesSince(${JSON.stringify(c1)}, ${JSON.stringify(c2)}, 'deploy');
await new Promise((r) => setTimeout(r, 300));
console.log(since.commits.length, source.primedLog !== undefined);
`,
    );
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`still running after 20 s: ${text}`));
      }, 20_000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    assert.equal(out.trim(), '1 true');
  });
});

describe('a network remote (git daemon)', () => {
  test('fetch, incremental walk and force-push through git://', async (t) => {
    const remote = makeBareRemote();
    const work = makeRepo();
    const c1 = commitFiles(work, { 'deploy/a.yaml': ds('agent', 'agent:1') }, 'v1', by('Alice', 1));
    push(work, remote);
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const daemon = spawn(
      'git',
      [
        'daemon',
        '--export-all',
        '--reuseaddr',
        `--base-path=${remote.dir}`,
        '--listen=127.0.0.1',
        `--port=${port}`,
        remote.dir,
      ],
      { stdio: 'ignore', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: remote.dir } },
    );
    const exited = new Promise((r) => daemon.on('close', r));
    daemon.on('error', () => undefined);
    try {
      const url = `git://127.0.0.1:${port}/`;
      let up = false;
      for (let i = 0; i < 50 && !up; i++) {
        try {
          remote.git(['ls-remote', url]);
          up = true;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (!up) {
        t.skip('git daemon did not start');
        return;
      }
      const source = sourceFor(url);
      const sync = new GitSync({ source, store: new MemoryHistoryStore(), path: 'deploy' });
      let r = await sync.sync();
      assert.equal(r.head, c1);
      assert.equal(await sharedSourceGitDir(source.dir), undefined, 'not a shared clone');
      const c2 = commitFiles(work, { 'deploy/a.yaml': ds('agent', 'agent:2') }, 'v2', by('Alice', 2));
      push(work, remote);
      r = await sync.sync();
      assert.equal(r.head, c2);
      assert.equal(r.rebuilt, false);
      assert.equal(r.commits, 1);
      assert.equal((await sync.sync()).outcome, 'up-to-date');
      resetHard(work, c1);
      const c3 = commitFiles(work, { 'deploy/a.yaml': ds('agent', 'agent:3') }, 'v3', by('Bob', 3));
      push(work, remote, { force: true });
      r = await sync.sync();
      assert.equal(r.head, c3);
      assert.equal(r.reason, 'ForcePushed');
      await source.close();
    } finally {
      daemon.kill();
      await exited;
    }
  });
});
