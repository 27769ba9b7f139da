/**
 * TreeDiffer against git itself: random histories (files, modes, symbolic links, submodules,
 * files turned into directories and back, names git sorts in odd ways) built in a real repository,
 * each commit's changes compared with what `git log --raw --relative=<dir>/` prints for it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { parseLogOutput, LOG_FORMAT } from '../../../src/source/git-log.js';
import { CatFileBatch } from '../../../src/source/git-process.js';
import type { FileChange } from '../../../src/source/git-source.js';
import { SimpleGitSource } from '../../../src/source/simple-git-source.js';
import { TreeDiffer } from '../../../src/source/tree-differ.js';
import { makeRepo, removeTempDirs, tempDir, type TestRepo } from '../../helpers/git.js';
import { prng } from '../../helpers/random.js';

after(removeTempDirs);

function gitIn(repo: TestRepo, args: string[], input?: string): string {
  return execFileSync('git', args, {
    cwd: repo.dir,
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: repo.dir,
      LC_ALL: 'C',
      GIT_AUTHOR_NAME: 'A',
      GIT_AUTHOR_EMAIL: 'a@example.com',
      GIT_COMMITTER_NAME: 'A',
      GIT_COMMITTER_EMAIL: 'a@example.com',
      GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
    },
  }).trimEnd();
}

interface Entry {
  mode: string;
  oid: string;
}

/** Commits `tree` (path → entry) on top of `parent` through the index alone (any mode, no worktree). */
function commitTree(repo: TestRepo, tree: Map<string, Entry>, parent: string | null, message: string): string {
  gitIn(repo, ['read-tree', '--empty']);
  const lines = [...tree].map(([path, e]) => `${e.mode} ${e.oid}\t${path}`).join('\n');
  if (lines !== '') gitIn(repo, ['update-index', '--index-info'], `${lines}\n`);
  const treeId = gitIn(repo, ['write-tree']);
  const commit = gitIn(repo, ['commit-tree', treeId, ...(parent ? ['-p', parent] : []), '-m', message]);
  gitIn(repo, ['update-ref', 'refs/heads/main', commit]);
  return commit;
}

const DIRS = ['manifests', 'manifests/sub', 'manifests/sub/deep', 'manifests/a b', 'manifests/é', 'other', ''];
const NAMES = ['a', 'a-b', 'a.yaml', 'a0', 'sub', 'x.yaml', 'é.yaml', 'ds 1.yaml', 'deep', 'manifests'];

/** A random path; the tree is kept free of a file and a directory at one path. */
function randomPath(rand: () => number): string {
  const dir = DIRS[Math.floor(rand() * DIRS.length)]!;
  const name = rand() < 0.6 ? NAMES[Math.floor(rand() * NAMES.length)]! : `ds-${Math.floor(rand() * 40)}.yaml`;
  return dir === '' ? name : `${dir}/${name}`;
}

function put(tree: Map<string, Entry>, path: string, entry: Entry): void {
  // A file where a directory was (or under what was a file) replaces it.
  for (const p of [...tree.keys()]) if (p.startsWith(`${path}/`) || path.startsWith(`${p}/`)) tree.delete(p);
  tree.set(path, entry);
}

function randomHistory(repo: TestRepo, seed: number, commits: number): string[] {
  const rand = prng(seed);
  const blob = (text: string) => gitIn(repo, ['hash-object', '-w', '--stdin'], text);
  const blobs = Array.from({ length: 6 }, (_, i) => blob(`content ${i}\n`));
  const anyBlob = () => blobs[Math.floor(rand() * blobs.length)]!;
  const tree = new Map<string, Entry>();
  for (let i = 0; i < 30; i++) put(tree, randomPath(rand), { mode: '100644', oid: anyBlob() });
  const history = [commitTree(repo, tree, null, 'root')];
  for (let c = 1; c < commits; c++) {
    const edits = rand() < 0.1 ? 0 : 1 + Math.floor(rand() * 4);
    for (let k = 0; k < edits; k++) {
      const roll = rand();
      const paths = [...tree.keys()];
      const existing = paths[Math.floor(rand() * paths.length)];
      if (roll < 0.3 || !existing) put(tree, randomPath(rand), { mode: '100644', oid: anyBlob() });
      else if (roll < 0.45) tree.set(existing, { ...tree.get(existing)!, oid: anyBlob() });
      else if (roll < 0.55)
        tree.set(existing, {
          mode: tree.get(existing)!.mode === '100755' ? '100644' : '100755',
          oid: tree.get(existing)!.oid,
        });
      else if (roll < 0.62) tree.set(existing, { mode: '120000', oid: blob(`target-${c}`) });
      else if (roll < 0.68) tree.set(existing, { mode: '160000', oid: history[0]! });
      else if (roll < 0.85) tree.delete(existing);
      else if (roll < 0.92) {
        // A whole directory goes.
        const dir = DIRS[Math.floor(rand() * (DIRS.length - 1))]!;
        for (const p of paths) if (p.startsWith(`${dir}/`)) tree.delete(p);
      } else put(tree, DIRS[Math.floor(rand() * (DIRS.length - 1))]!, { mode: '100644', oid: anyBlob() });
    }
    history.push(commitTree(repo, tree, history[history.length - 1]!, `c${c}`));
  }
  return history;
}

/** What git prints for one commit against its first parent, under `dir`. */
function gitChanges(repo: TestRepo, commit: string, dir: string): FileChange[] {
  const out = gitIn(repo, [
    '-c',
    'core.quotePath=false',
    'log',
    '--raw',
    '--no-abbrev',
    '--no-renames',
    '-z',
    `--format=${LOG_FORMAT}`,
    ...(dir === '' ? [] : [`--relative=${dir}/`]),
    '-1',
    commit,
    '--',
  ]);
  return parseLogOutput(out)[0]?.files.slice() ?? [];
}

function batchFor(repo: TestRepo): CatFileBatch {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: repo.dir, LC_ALL: 'C' };
  return new CatFileBatch({ cwd: repo.dir, env, config: [], stallTimeoutMs: 10_000 });
}

describe('TreeDiffer gives what git log --raw gives', () => {
  for (const seed of [1, 2, 3, 4]) {
    test(`random history ${seed}: commit by commit, and along the whole chain with a cache of one tree`, async () => {
      const repo = makeRepo();
      const history = randomHistory(repo, seed, 60);
      const batch = batchFor(repo);
      try {
        for (const dir of ['', 'manifests', 'manifests/sub', 'manifests/a b', 'missing']) {
          const differ = new TreeDiffer(batch);
          const tiny = new TreeDiffer(batch, { maxTrees: 1 });
          const along = await tiny.changesAlong(history, dir);
          for (let i = 1; i < history.length; i++) {
            const expected = gitChanges(repo, history[i]!, dir);
            const [pair] = await differ.changesAlong([history[i - 1]!, history[i]!], dir);
            assert.deepEqual(pair, expected, `dir ${JSON.stringify(dir)}, commit ${i}`);
            assert.deepEqual(along[i - 1], expected, `dir ${JSON.stringify(dir)}, commit ${i}, whole chain`);
          }
        }
      } finally {
        await batch.close();
      }
    });
  }

  test('a directory of 5,000 files: one-file changes, additions and deletions', async () => {
    const repo = makeRepo();
    const blob = (text: string) => gitIn(repo, ['hash-object', '-w', '--stdin'], text);
    const one = blob('one\n');
    const two = blob('two\n');
    const tree = new Map<string, Entry>();
    for (let i = 0; i < 5000; i++) tree.set(`manifests/ds-${i}.yaml`, { mode: '100644', oid: one });
    const history = [commitTree(repo, tree, null, 'root')];
    const edits: ((t: Map<string, Entry>) => void)[] = [
      (t) => t.set('manifests/ds-0.yaml', { mode: '100644', oid: two }),
      (t) => t.set('manifests/ds-4999.yaml', { mode: '100644', oid: two }),
      (t) => t.delete('manifests/ds-2500.yaml'),
      (t) => t.set('manifests/ds-2500.yaml', { mode: '100644', oid: one }),
      (t) => t.set('manifests/ds-2500.yaml/inner.yaml', { mode: '100644', oid: one }),
      (t) => {
        t.set('manifests/ds-1.yaml', { mode: '100755', oid: one });
        t.set('manifests/zz.yaml', { mode: '100644', oid: two });
      },
    ];
    for (const [i, edit] of edits.entries()) {
      edit(tree);
      if (tree.has('manifests/ds-2500.yaml/inner.yaml')) tree.delete('manifests/ds-2500.yaml');
      history.push(commitTree(repo, tree, history[history.length - 1]!, `e${i}`));
    }
    const batch = batchFor(repo);
    try {
      const differ = new TreeDiffer(batch);
      for (let i = 1; i < history.length; i++) {
        const [pair] = await differ.changesAlong([history[i - 1]!, history[i]!], 'manifests');
        assert.deepEqual(pair, gitChanges(repo, history[i]!, 'manifests'), `commit ${i}`);
      }
    } finally {
      await batch.close();
    }
  });

  test('modes of old trees (100664, 100775) compare as git reads them: 100644 and 100755', async () => {
    const repo = makeRepo();
    const blob = (text: string) => gitIn(repo, ['hash-object', '-w', '--stdin'], text);
    // git mktree rewrites such modes; an old repository may still hold them, written as-is here.
    const legacyTree = (mode: string, id: string) =>
      execFileSync('git', ['hash-object', '-w', '-t', 'tree', '--literally', '--stdin'], {
        cwd: repo.dir,
        input: Buffer.concat([Buffer.from(`${mode} a.yaml\0`), Buffer.from(id, 'hex')]),
        encoding: 'utf8',
      }).trim();
    const one = blob('one\n');
    const two = blob('two\n');
    const commitOf = (tree: string, parent?: string) =>
      gitIn(repo, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', tree]);
    const c1 = commitOf(legacyTree('100664', one));
    const c2 = commitOf(legacyTree('100644', one), c1);
    const c3 = commitOf(legacyTree('100644', two), c2);
    const c4 = commitOf(legacyTree('100775', two), c3);
    const batch = batchFor(repo);
    try {
      const differ = new TreeDiffer(batch);
      const along = await differ.changesAlong([c1, c2, c3, c4], '');
      assert.deepEqual(along, [gitChanges(repo, c2, ''), gitChanges(repo, c3, ''), gitChanges(repo, c4, '')]);
      assert.deepEqual(along[0], [], 'only the way the mode is written changed');
      assert.deepEqual(along[2], [{ path: 'a.yaml', status: 'M', blob: two }]);
    } finally {
      await batch.close();
    }
  });

  test('a missing tree fails the call (the source then asks git), and the differ still works after', async () => {
    const repo = makeRepo();
    const batch = batchFor(repo);
    try {
      const differ = new TreeDiffer(batch);
      await assert.rejects(() => differ.changesAlong(['f'.repeat(40), 'e'.repeat(40)], ''), /missing|invalid/);
      const blob = gitIn(repo, ['hash-object', '-w', '--stdin'], 'x\n');
      const c1 = commitTree(repo, new Map([['a.yaml', { mode: '100644', oid: blob }]]), null, 'c1');
      const c2 = commitTree(repo, new Map([['b.yaml', { mode: '100644', oid: blob }]]), c1, 'c2');
      assert.deepEqual(await differ.changesAlong([c1, c2], ''), [gitChanges(repo, c2, '')]);
    } finally {
      await batch.close();
    }
  });
});

test('changesSince over a chain longer than the tree comparison takes equals listChanges', async () => {
  const repo = makeRepo();
  const history = randomHistory(repo, 9, 40);
  const source = new SimpleGitSource({ url: repo.dir, branch: 'main', dir: tempDir('dsctl-clone') });
  try {
    await source.fetch();
    for (const [from, to] of [
      [0, 39],
      [20, 39],
      [38, 39],
    ] as const) {
      for (const path of ['', 'manifests', 'manifests/sub', 'manifests/x.yaml']) {
        const since = await source.changesSince(history[from]!, history[to]!, path);
        assert.equal(since.check, 'descendant');
        assert.deepEqual(
          since.commits,
          await source.listChanges(history[from]!, history[to]!, path),
          `${from}..${to} ${path}`,
        );
      }
    }
  } finally {
    await source.close();
  }
});
