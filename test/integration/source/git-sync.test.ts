import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { currentRevision } from '../../../src/revision/history.js';
import type { HistoryStore, RedisHistoryStore } from '../../../src/revision/store.js';
import { GitSync } from '../../../src/source/git-sync.js';
import { SimpleGitSource } from '../../../src/source/simple-git-source.js';
import {
  commitFiles,
  daemonSetYaml,
  makeBareRemote,
  makeRepo,
  push,
  removeTempDirs,
  resetHard,
  tempDir,
} from '../../helpers/git.js';
import { by, StoreFactory, syncFixture, type StoreKind } from './fixtures.js';

const fluentd = (image: string, extra: Partial<Parameters<typeof daemonSetYaml>[0]> = {}): string =>
  daemonSetYaml({ name: 'fluentd', namespace: 'kube-system', image, ...extra });
const exporter = (image: string): string => daemonSetYaml({ name: 'node-exporter', namespace: 'monitoring', image });
const BROKEN = 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: fluentd\n  namespace: kube-system\n';

/** Revision numbers and images of a DaemonSet, for compact assertions. */
async function history(store: HistoryStore, key: string): Promise<[number, string][]> {
  const record = await store.getDaemonSet(key);
  return (record?.history.revisions ?? []).map((r) => [r.revision, String(r.template.spec?.containers?.[0]?.image)]);
}

async function fullHistory(store: HistoryStore, key: string): Promise<unknown> {
  const record = await store.getDaemonSet(key);
  return record && { revisions: record.history.revisions, generation: record.history.generation };
}

after(() => removeTempDirs());

for (const kind of ['memory', 'redis'] as StoreKind[]) {
  describe(`GitSync (${kind} store)`, () => {
    const stores = new StoreFactory(kind);
    after(() => stores.close());

    test('a known sequence: image change, strategy-only change, broken commit, return to the first template', async () => {
      const f = syncFixture(stores);
      const c1 = commitFiles(
        f.repo,
        {
          'deploy/fluentd.yaml': fluentd('fluentd:v1'),
          'deploy/node-exporter.yaml': exporter('prom/node-exporter:v1'),
          'README.md': 'not a manifest\n',
        },
        'add fluentd and node-exporter',
        by('Alice', 1),
      );
      let r = await f.sync.sync();
      assert.equal(r.outcome, 'synced');
      assert.equal(r.initial, true);
      assert.deepEqual(r.changes.map((c) => [c.key, c.kinds, c.revision]).sort(), [
        ['kube-system/fluentd', ['created', 'revision'], 1],
        ['monitoring/node-exporter', ['created', 'revision'], 1],
      ]);

      const c2 = commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': fluentd('fluentd:v2') },
        'bump fluentd to v2',
        by('Bob', 2),
      );
      r = await f.sync.sync();
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds, c.revision]),
        [['kube-system/fluentd', ['revision', 'spec'], 2]],
      );

      commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': fluentd('fluentd:v2', { strategy: 'OnDelete' }) },
        'fluentd: OnDelete',
        by('Bob', 3),
      );
      r = await f.sync.sync();
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds, c.revision, c.generation]),
        [['kube-system/fluentd', ['spec'], 2, 3]],
        'strategy-only change: new generation, no revision',
      );

      const c4 = commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': BROKEN, 'deploy/node-exporter.yaml': exporter('prom/node-exporter:v2') },
        'break fluentd, bump exporter',
        by('Carol', 4),
      );
      r = await f.sync.sync();
      const byKey = new Map(r.changes.map((c) => [c.key, c]));
      assert.deepEqual(byKey.get('kube-system/fluentd')?.kinds, ['error']);
      assert.deepEqual(byKey.get('monitoring/node-exporter')?.kinds, ['revision', 'spec'], 'others carry on');
      const broken = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      assert.equal(currentRevision(broken.history)?.revision, 2, 'keeps its last good revision');
      assert.equal(broken.desired.daemonSet.spec?.updateStrategy?.type, 'OnDelete', 'keeps its last good object');
      assert.equal(broken.errors.length > 0, true);
      const err = broken.errors[0]!;
      assert.equal(err.commit, c4);
      assert.equal(err.file, 'deploy/fluentd.yaml');
      assert.equal(err.line > 0 && err.column > 0, true);
      assert.match(err.message, /YAML|syntax|indent/i);
      assert.deepEqual([...new Set(r.errors.map((e) => e.file))], ['deploy/fluentd.yaml']);

      const c5 = commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': fluentd('fluentd:v3') },
        'fix fluentd, v3',
        by('Alice', 5),
      );
      r = await f.sync.sync();
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds, c.revision]),
        [['kube-system/fluentd', ['revision', 'spec', 'recovered'], 3]],
      );

      const c6 = commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': fluentd('fluentd:v1', { changeCause: 'roll back to v1' }) },
        'Revert fluentd to v1',
        by('Dave', 6),
      );
      r = await f.sync.sync();
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds, c.revision]),
        [['kube-system/fluentd', ['revision', 'spec'], 4]],
      );

      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [2, 'fluentd:v2'],
        [3, 'fluentd:v3'],
        [4, 'fluentd:v1'],
      ]);
      const record = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      const [r2, r3, r4] = record.history.revisions;
      assert.deepEqual(
        [r2!.commit, r2!.author, r2!.subject, r2!.changeCause, r2!.path],
        [c2, 'Bob', 'bump fluentd to v2', 'bump fluentd to v2', 'deploy/fluentd.yaml'],
      );
      assert.equal(r2!.date, '2024-01-02T10:00:00+00:00');
      assert.equal(r3!.commit, c5);
      assert.equal(r4!.commit, c6, 'a reused revision shows the commit that returned to it');
      assert.equal(r4!.changeCause, 'roll back to v1', 'change-cause annotation wins over the subject');
      assert.equal(r4!.createdBy?.commit, c1);
      assert.equal(r4!.createdBy?.revision, 1);
      assert.equal(record.history.templateGeneration, 4);
      assert.equal(record.history.generation, 5);
      assert.deepEqual(record.errors, []);
      assert.deepEqual(await history(f.store, 'monitoring/node-exporter'), [
        [1, 'prom/node-exporter:v1'],
        [2, 'prom/node-exporter:v2'],
      ]);

      // The stored template is the one written in that commit.
      const written = parseYaml(f.repo.git(['show', `${c5}:deploy/fluentd.yaml`])) as { spec: { template: unknown } };
      assert.deepEqual(r3!.template, written.spec.template);

      // Rebuilding from an empty store gives identical numbers, hashes and commits.
      const fresh = await f.rebuild();
      for (const key of ['kube-system/fluentd', 'monitoring/node-exporter']) {
        assert.deepEqual(await fullHistory(fresh.store, key), await fullHistory(f.store, key), key);
      }
      assert.equal(await fresh.store.getCursor(), await f.store.getCursor());
    });

    test('a poll with nothing new costs one fetch and parses nothing; a new commit parses only its file', async () => {
      const f = syncFixture(stores);
      const files: Record<string, string> = {};
      for (let i = 0; i < 20; i++)
        files[`deploy/ds-${i}.yaml`] = daemonSetYaml({ name: `ds-${i}`, image: 'busybox:1' });
      commitFiles(f.repo, files, 'twenty daemonsets', by('Alice', 1));
      const first = await f.sync.sync();
      assert.equal(first.parsed, 20);
      assert.equal(f.parses(), 20);

      const again = await f.sync.sync();
      assert.equal(again.outcome, 'up-to-date');
      assert.equal(again.parsed, 0);
      assert.equal(f.parses(), 20, 'no parse on an unchanged head');
      assert.deepEqual(again.changes, []);

      commitFiles(f.repo, { 'deploy/ds-7.yaml': daemonSetYaml({ name: 'ds-7', image: 'busybox:2' }) }, 'bump ds-7');
      commitFiles(f.repo, { 'docs/notes.md': 'outside the path\n' }, 'docs only');
      const one = await f.sync.sync();
      assert.equal(one.outcome, 'synced');
      assert.equal(one.commits, 1, 'the commit outside the path is not replayed');
      assert.equal(f.parses(), 21, 'only the changed file is parsed');
      assert.deepEqual(
        one.changes.map((c) => [c.key, c.revision]),
        [['default/ds-7', 2]],
      );
      assert.equal(
        await f.store.getCursor(),
        f.repo.head(),
        'the cursor moves to the head, also past untouched commits',
      );
    });

    test('force-push: the history is rebuilt from scratch and says so', async () => {
      const remote = makeBareRemote();
      const work = makeRepo();
      const f = syncFixture(stores, { url: remote.dir });
      commitFiles(work, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
      const base = work.head();
      commitFiles(work, { 'deploy/fluentd.yaml': fluentd('fluentd:v2') }, 'v2', by('Alice', 2));
      commitFiles(work, { 'deploy/fluentd.yaml': fluentd('fluentd:v3') }, 'v3', by('Alice', 3));
      push(work, remote);
      assert.equal((await f.sync.sync()).outcome, 'synced');
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [1, 'fluentd:v1'],
        [2, 'fluentd:v2'],
        [3, 'fluentd:v3'],
      ]);

      resetHard(work, base);
      commitFiles(work, { 'deploy/fluentd.yaml': fluentd('fluentd:v9') }, 'v9 instead', by('Bob', 4));
      push(work, remote, { force: true });
      const r = await f.sync.sync();
      assert.equal(r.outcome, 'synced');
      assert.equal(r.rebuilt, true);
      assert.equal(r.reason, 'ForcePushed');
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [1, 'fluentd:v1'],
        [2, 'fluentd:v9'],
      ]);
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds, c.revision]),
        [['kube-system/fluentd', ['revision', 'spec'], 2]],
      );
      const fresh = await f.rebuild();
      assert.deepEqual(
        await fullHistory(fresh.store, 'kube-system/fluentd'),
        await fullHistory(f.store, 'kube-system/fluentd'),
      );

      // A normal push afterwards is incremental again.
      commitFiles(work, { 'deploy/fluentd.yaml': fluentd('fluentd:v10') }, 'v10', by('Bob', 5));
      push(work, remote);
      const next = await f.sync.sync();
      assert.equal(next.rebuilt, false);
      assert.equal(next.commits, 1);
    });

    test('two files defining the same DaemonSet: an error naming both, the earlier file stays authoritative', async () => {
      const f = syncFixture(stores);
      commitFiles(f.repo, { 'deploy/a.yaml': fluentd('fluentd:a1') }, 'a', by('Alice', 1));
      await f.sync.sync();
      commitFiles(f.repo, { 'deploy/b.yaml': fluentd('fluentd:b1') }, 'duplicate in b', by('Bob', 2));
      let r = await f.sync.sync();
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds]),
        [['kube-system/fluentd', ['error']]],
      );
      let rec = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [[1, 'fluentd:a1']]);
      assert.equal(rec.errors.length, 1);
      assert.equal(rec.errors[0]!.code, 'DuplicateDaemonSet');
      assert.match(rec.errors[0]!.message, /deploy\/a\.yaml/);
      assert.match(rec.errors[0]!.message, /deploy\/b\.yaml/);

      commitFiles(f.repo, { 'deploy/a.yaml': fluentd('fluentd:a2') }, 'change a', by('Alice', 3));
      await f.sync.sync();
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [1, 'fluentd:a1'],
        [2, 'fluentd:a2'],
      ]);
      rec = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      assert.equal(rec.errors.length, 1, 'still duplicated');
      assert.equal(rec.desired.file, 'deploy/a.yaml');

      // The owner drops it: the other file takes over and its content applies.
      commitFiles(f.repo, { 'deploy/a.yaml': exporter('prom/node-exporter:v1') }, 'a now holds the exporter');
      r = await f.sync.sync();
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds]),
        [
          ['kube-system/fluentd', ['revision', 'spec', 'recovered']],
          ['monitoring/node-exporter', ['created', 'revision']],
        ],
      );
      rec = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      assert.deepEqual(rec.errors, []);
      assert.equal(rec.desired.file, 'deploy/b.yaml');
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [1, 'fluentd:a1'],
        [2, 'fluentd:a2'],
        [3, 'fluentd:b1'],
      ]);
      const fresh = await f.rebuild();
      assert.deepEqual(
        await fullHistory(fresh.store, 'kube-system/fluentd'),
        await fullHistory(f.store, 'kube-system/fluentd'),
      );
    });

    test('deleting the tracked path is an error, never a mass deletion; restoring it recovers', async () => {
      const f = syncFixture(stores);
      commitFiles(
        f.repo,
        {
          'deploy/fluentd.yaml': fluentd('fluentd:v1'),
          'deploy/node-exporter.yaml': exporter('prom/node-exporter:v1'),
        },
        'add',
        by('Alice', 1),
      );
      await f.sync.sync();
      const gone = commitFiles(f.repo, { deploy: null }, 'oops: remove deploy/', by('Bob', 2));
      let r = await f.sync.sync();
      assert.equal(r.outcome, 'synced');
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0]!.code, 'SourcePathEmpty');
      assert.equal(r.errors[0]!.commit, gone);
      assert.equal(
        r.changes.every((c) => c.kinds.includes('error') && !c.kinds.includes('deleted')),
        true,
      );
      assert.deepEqual(await f.store.listDaemonSets(), ['kube-system/fluentd', 'monitoring/node-exporter']);
      assert.equal((await f.store.getFileErrors()).get('')?.[0]?.code, 'SourcePathEmpty');

      commitFiles(
        f.repo,
        {
          'deploy/fluentd.yaml': fluentd('fluentd:v1'),
          'deploy/node-exporter.yaml': exporter('prom/node-exporter:v1'),
        },
        'restore deploy/',
        by('Bob', 3),
      );
      r = await f.sync.sync();
      assert.deepEqual(
        r.changes.map((c) => [c.key, c.kinds]),
        [
          ['kube-system/fluentd', ['recovered']],
          ['monitoring/node-exporter', ['recovered']],
        ],
      );
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [[1, 'fluentd:v1']]);
      assert.equal((await f.store.getFileErrors()).has(''), false);
    });

    test('a DaemonSet removed from Git is deleted with pruning on and kept with pruning off', async () => {
      for (const prune of [true, false]) {
        const f = syncFixture(stores, { prune });
        commitFiles(
          f.repo,
          {
            'deploy/fluentd.yaml': fluentd('fluentd:v1'),
            'deploy/node-exporter.yaml': exporter('prom/node-exporter:v1'),
          },
          'add',
          by('Alice', 1),
        );
        await f.sync.sync();
        commitFiles(f.repo, { 'deploy/node-exporter.yaml': null }, 'remove node-exporter', by('Alice', 2));
        const r = await f.sync.sync();
        const change = r.changes.find((c) => c.key === 'monitoring/node-exporter');
        if (prune) {
          assert.deepEqual(change?.kinds, ['deleted']);
          assert.equal(await f.store.getDaemonSet('monitoring/node-exporter'), undefined);
          assert.deepEqual(await f.store.listDaemonSets(), ['kube-system/fluentd']);
        } else {
          assert.deepEqual(change?.kinds, ['orphaned']);
          const kept = await f.store.getDaemonSet('monitoring/node-exporter');
          assert.equal(kept?.desired.orphaned, true);
          assert.deepEqual(await history(f.store, 'monitoring/node-exporter'), [[1, 'prom/node-exporter:v1']]);
        }
        assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [[1, 'fluentd:v1']]);
      }
    });

    test('an unreachable repository: SourceFetchFailed with a sanitized message, backoff, state intact', async () => {
      const remote = makeBareRemote();
      const work = makeRepo();
      commitFiles(work, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
      push(work, remote);
      let now = 1_000_000;
      const f = syncFixture(stores, { url: remote.dir, clock: () => now, backoff: { initialMs: 1000, maxMs: 4000 } });
      await f.sync.sync();
      const cursor = await f.store.getCursor();

      // Same store, a source whose URL carries a credential and points nowhere.
      const sync = new GitSync({
        source: new SimpleGitSource({
          url: 'http://user:s3cr3t-token@127.0.0.1:9/repo.git',
          branch: 'main',
          dir: tempDir('dsctl-clone'),
        }),
        store: f.store,
        path: 'deploy',
        clock: () => now,
        backoff: { initialMs: 1000, maxMs: 4000 },
      });
      let r = await sync.sync();
      assert.equal(r.outcome, 'fetch-failed');
      assert.equal(r.condition.type, 'SourceFetchFailed');
      assert.equal(r.condition.status, 'True');
      assert.equal(r.source.failures, 1);
      assert.equal(r.source.nextRetryAt, now + 1000);
      assert.doesNotMatch(JSON.stringify(r), /s3cr3t/);
      assert.match(r.condition.message, /\*\*\*@127\.0\.0\.1/);

      r = await sync.sync();
      assert.equal(r.outcome, 'backoff', 'no fetch before nextRetryAt');
      now += 1000;
      r = await sync.sync();
      assert.equal(r.outcome, 'fetch-failed');
      assert.equal(r.source.failures, 2);
      assert.equal(r.source.nextRetryAt, now + 2000);
      now += 2000;
      r = await sync.sync();
      assert.equal(r.source.nextRetryAt, now + 4000);
      now += 4000;
      r = await sync.sync();
      assert.equal(r.source.nextRetryAt, now + 4000, 'capped');

      assert.equal(await f.store.getCursor(), cursor, 'state intact');
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [[1, 'fluentd:v1']]);

      // The good source works again, resets the failure count, and the history continues.
      commitFiles(work, { 'deploy/fluentd.yaml': fluentd('fluentd:v2') }, 'v2', by('Alice', 2));
      push(work, remote);
      r = await f.sync.sync({ force: true });
      assert.equal(r.outcome, 'synced');
      assert.equal(r.source.failures, 0);
      assert.equal(r.condition.status, 'False');
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [1, 'fluentd:v1'],
        [2, 'fluentd:v2'],
      ]);
    });

    test('an invalid DaemonSet is held with its error while others in the same file carry on', async () => {
      const f = syncFixture(stores);
      const both = (a: string, b: string): string => `${fluentd(a)}---\n${exporter(b)}`;
      commitFiles(f.repo, { 'deploy/all.yaml': both('fluentd:v1', 'prom/node-exporter:v1') }, 'both', by('Alice', 1));
      await f.sync.sync();
      const invalid = fluentd('fluentd:v2').replace('  selector:\n    matchLabels:\n      app: fluentd\n', '');
      const bad = commitFiles(
        f.repo,
        { 'deploy/all.yaml': `${invalid}---\n${exporter('prom/node-exporter:v2')}` },
        'drop the selector, bump exporter',
        by('Bob', 2),
      );
      const r = await f.sync.sync();
      const rec = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      assert.equal(rec.errors.length > 0, true);
      assert.equal(rec.errors[0]!.commit, bad);
      assert.match(rec.errors.map((e) => `${e.field ?? ''} ${e.message}`).join('\n'), /selector/);
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [[1, 'fluentd:v1']]);
      assert.deepEqual(await history(f.store, 'monitoring/node-exporter'), [
        [1, 'prom/node-exporter:v1'],
        [2, 'prom/node-exporter:v2'],
      ]);
      assert.deepEqual(r.changes.map((c) => [c.key, c.kinds]).sort(), [
        ['kube-system/fluentd', ['error']],
        ['monitoring/node-exporter', ['revision', 'spec']],
      ]);
    });

    test('moving a DaemonSet to another file (git mv) neither deletes it nor makes a revision', async () => {
      const f = syncFixture(stores);
      commitFiles(f.repo, { 'deploy/old.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
      await f.sync.sync();
      commitFiles(
        f.repo,
        { 'deploy/old.yaml': null, 'deploy/logging/fluentd.yaml': fluentd('fluentd:v1') },
        'move fluentd',
        by('Alice', 2),
      );
      const r = await f.sync.sync();
      assert.deepEqual(r.changes, []);
      const rec = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      assert.equal(rec.desired.file, 'deploy/logging/fluentd.yaml');
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [[1, 'fluentd:v1']]);
    });

    test('a garbage cursor in the store triggers a rebuild instead of failing forever', async () => {
      const f = syncFixture(stores);
      commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
      await f.sync.sync();
      const meta = (await f.store.getMeta())!;
      await f.store.commit({
        expectedCursor: await f.store.getCursor(),
        cursor: 'not-a-sha',
        meta,
        reset: false,
        files: new Map(),
        pending: [],
        claims: new Map(),
        daemonSets: new Map(),
        fileErrors: new Map(),
      });
      commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v2') }, 'v2', by('Alice', 2));
      const r = await f.sync.sync();
      assert.equal(r.rebuilt, true);
      assert.equal(r.reason, 'CursorUnknown');
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [1, 'fluentd:v1'],
        [2, 'fluentd:v2'],
      ]);
    });

    test('merges on the first-parent chain count with their first-parent diff; side commits do not', async () => {
      const f = syncFixture(stores);
      commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
      f.repo.git(['checkout', '--quiet', '-b', 'feature']);
      commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:wip') }, 'wip', by('Bob', 2));
      commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v2') }, 'v2 on the branch', by('Bob', 3));
      f.repo.git(['checkout', '--quiet', 'main']);
      f.repo.git(['merge', '--quiet', '--no-ff', '-m', 'Merge feature', 'feature'], {
        GIT_AUTHOR_NAME: 'Carol',
        GIT_AUTHOR_EMAIL: 'carol@example.com',
        GIT_AUTHOR_DATE: '2024-01-04T10:00:00Z',
        GIT_COMMITTER_NAME: 'Carol',
        GIT_COMMITTER_EMAIL: 'carol@example.com',
        GIT_COMMITTER_DATE: '2024-01-04T10:00:00Z',
      });
      await f.sync.sync();
      const rec = (await f.store.getDaemonSet('kube-system/fluentd'))!;
      assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
        [1, 'fluentd:v1'],
        [2, 'fluentd:v2'],
      ]);
      assert.equal(rec.history.revisions[1]!.subject, 'Merge feature');
      assert.equal(rec.history.revisions[1]!.author, 'Carol');
    });
  });
}

describe('GitSync with Redis only', () => {
  const stores = new StoreFactory('redis');
  after(() => stores.close());

  test('every key lives under one hash tag and a restart continues where it stopped', async () => {
    const f = syncFixture(stores);
    commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
    await f.sync.sync();
    const redis = stores.connection()!;
    const prefix = (f.store as RedisHistoryStore).keys.cursor.split(':')[0]!;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(
        cursor,
        'MATCH',
        `${prefix.replace(/[{}[\]*?]/g, '\\$&')}:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    assert.deepEqual(keys.map((k) => k.slice(prefix.length)).sort(), [
      ':ds:index',
      ':ds:kube-system/fluentd:desired',
      ':ds:kube-system/fluentd:revisions',
      ':git:claims',
      ':git:cursor',
      ':git:files',
      ':git:meta',
      ':git:status',
    ]);
    assert.match(prefix, /^\{dsctl-test-git-sync-[0-9a-f]+\}$/);
    assert.equal(await redis.get(`${prefix}:git:cursor`), f.repo.head());

    // A new process (new GitSync, new clone) on the same Redis continues incrementally.
    commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v2') }, 'v2', by('Alice', 2));
    const restarted = new GitSync({
      source: new SimpleGitSource({ url: f.repo.dir, branch: 'main', dir: tempDir('dsctl-clone') }),
      store: f.store,
      path: 'deploy',
    });
    const r = await restarted.sync();
    assert.equal(r.rebuilt, false);
    assert.equal(r.commits, 1);
    assert.deepEqual(await history(f.store, 'kube-system/fluentd'), [
      [1, 'fluentd:v1'],
      [2, 'fluentd:v2'],
    ]);
  });

  test('a sync whose cursor moved meanwhile writes nothing (conflict)', async () => {
    const f = syncFixture(stores);
    commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
    const store = f.store;
    const ok = await store.commit({
      expectedCursor: null,
      cursor: '0'.repeat(40),
      meta: { url: 'x', branch: 'main', path: 'deploy', head: '0'.repeat(40), syncedAt: 0 },
      reset: false,
      files: new Map(),
      pending: [],
      claims: new Map(),
      daemonSets: new Map(),
      fileErrors: new Map(),
    });
    assert.equal(ok, true);
    const stale = await store.commit({
      expectedCursor: null,
      cursor: '1'.repeat(40),
      meta: { url: 'x', branch: 'main', path: 'deploy', head: '1'.repeat(40), syncedAt: 0 },
      reset: false,
      files: new Map([['deploy/x.yaml', { blob: '2'.repeat(40), keys: [] }]]),
      pending: [],
      claims: new Map(),
      daemonSets: new Map(),
      fileErrors: new Map(),
    });
    assert.equal(stale, false);
    assert.equal(await store.getCursor(), '0'.repeat(40));
    assert.deepEqual([...(await store.getFiles(['deploy/x.yaml'])).keys()], []);
  });
});
