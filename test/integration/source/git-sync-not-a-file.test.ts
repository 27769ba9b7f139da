/**
 * Manifests that stop being DaemonSet files without being deleted: a document whose `kind`
 * changes under the same name (`KindChanged`), and a file replaced by a symlink or a submodule
 * (`ManifestNotRegularFile`). Both are errors that hold the DaemonSet at its last good state,
 * never a removal; real temporary repositories, memory and Redis stores.
 */
import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { HistoryStore } from '../../../src/revision/store.js';
import { GitSync, type SyncResult } from '../../../src/source/git-sync.js';
import { SimpleGitSource } from '../../../src/source/simple-git-source.js';
import { authorEnv, commitFiles, daemonSetYaml, removeTempDirs, tempDir, type TestRepo } from '../../helpers/git.js';
import { by, StoreFactory, syncFixture, type StoreKind, type SyncFixture } from './fixtures.js';

const FLUENTD = 'kube-system/fluentd';
const EXPORTER = 'monitoring/node-exporter';
const fluentd = (image: string): string => daemonSetYaml({ name: 'fluentd', namespace: 'kube-system', image });
const exporter = (image: string): string => daemonSetYaml({ name: 'node-exporter', namespace: 'monitoring', image });
const asDeployment = (yaml: string): string => yaml.replace('kind: DaemonSet', 'kind: Deployment');
const serviceAccount = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: fluentd\n  namespace: kube-system\n';

async function images(store: HistoryStore, key: string): Promise<[number, string][]> {
  const record = await store.getDaemonSet(key);
  return (record?.history.revisions ?? []).map((r) => [r.revision, String(r.template.spec?.containers?.[0]?.image)]);
}

/**
 * A file outside the repository holding a valid DaemonSet of the same name (image `fluentd:outside`):
 * if a link to it were followed, a revision with that image would appear.
 */
function outsideFile(): string {
  const path = join(tempDir('dsctl-outside'), 'fluentd.yaml');
  writeFileSync(path, fluentd('fluentd:outside'));
  return path;
}

/** Replaces `path` in the working tree by a symlink to `target` and commits everything. */
function commitSymlink(repo: TestRepo, path: string, target: string, subject: string, day: number): string {
  const full = join(repo.dir, path);
  rmSync(full, { force: true });
  symlinkSync(target, full);
  return commitFiles(repo, {}, subject, by('Mallory', day));
}

/** Commits `text` at `path` in place of a symlink (removed first: writing would go through the link). */
function commitInPlaceOfLink(repo: TestRepo, path: string, text: string, subject: string, day: number): string {
  rmSync(join(repo.dir, path), { force: true });
  return commitFiles(repo, { [path]: text }, subject, by('Bob', day));
}

/** Puts a gitlink (a submodule entry, mode 160000) at `path` in the index and commits the index as it is. */
function commitSubmodule(repo: TestRepo, path: string, subject: string, day: number): string {
  repo.git(['rm', '--quiet', '--cached', '--ignore-unmatch', path]);
  repo.git(['update-index', '--add', '--cacheinfo', `160000,${repo.head()},${path}`]);
  repo.git(['commit', '--quiet', '--no-verify', '-m', subject], authorEnv(by('Mallory', day)));
  rmSync(join(repo.dir, path), { recursive: true, force: true });
  return repo.head();
}

/** Adds fluentd and node-exporter (images `:v1`) in one commit and syncs it. */
async function addBoth(f: SyncFixture): Promise<void> {
  commitFiles(
    f.repo,
    { 'deploy/fluentd.yaml': fluentd('fluentd:v1'), 'deploy/node-exporter.yaml': exporter('exporter:v1') },
    'add',
    by('Alice', 1),
  );
  await f.sync.sync();
}

/** `[key, kinds]` of each change of a sync, the shape every assertion here compares. */
function changesOf(r: SyncResult): [string, readonly string[]][] {
  return r.changes.map((c) => [c.key, c.kinds]);
}

after(() => removeTempDirs());

for (const kind of ['memory', 'redis'] as StoreKind[]) {
  describe(`GitSync: a DaemonSet document that becomes another kind (${kind} store)`, () => {
    const stores = new StoreFactory(kind);
    after(() => stores.close());

    test('kind: Deployment under the same name is an error holding the DaemonSet, not a removal', async () => {
      const f = syncFixture(stores);
      await addBoth(f);

      const changed = commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': asDeployment(fluentd('fluentd:v2')) },
        'fluentd is a Deployment now',
        by('Bob', 2),
      );
      let r = await f.sync.sync();
      assert.deepEqual(changesOf(r), [[FLUENTD, ['error']]]);
      const expected = {
        code: 'KindChanged',
        message:
          'kind: Deployment: DaemonSet kube-system/fluentd is no longer a DaemonSet in this document; ' +
          'dsctl keeps running the DaemonSet. To remove it, delete the document',
        file: 'deploy/fluentd.yaml',
        line: 2,
        column: 7,
        field: 'kind',
        key: FLUENTD,
        commit: changed,
      };
      assert.deepEqual(r.errors, [expected]);
      const held = (await f.store.getDaemonSet(FLUENTD))!;
      assert.deepEqual(held.errors, [expected]);
      assert.equal(held.desired.commit !== changed, true, 'keeps its last good object');
      assert.deepEqual(await images(f.store, FLUENTD), [[1, 'fluentd:v1']]);
      assert.deepEqual((await f.store.getClaims([FLUENTD])).get(FLUENTD), ['deploy/fluentd.yaml']);
      assert.deepEqual((await f.store.getFileErrors()).get('deploy/fluentd.yaml'), [expected]);

      // Editing the Deployment (still named like the DaemonSet) keeps it held: the error is re-derived.
      const edited = commitFiles(
        f.repo,
        {
          'deploy/fluentd.yaml': asDeployment(fluentd('fluentd:v3')),
          'deploy/node-exporter.yaml': exporter('exporter:v2'),
        },
        'edit the Deployment, bump exporter',
        by('Bob', 3),
      );
      r = await f.sync.sync();
      assert.deepEqual(changesOf(r), [[EXPORTER, ['revision', 'spec']]]);
      assert.deepEqual(
        r.errors.map((e) => [e.code, e.commit]),
        [['KindChanged', edited]],
      );
      assert.deepEqual(await images(f.store, FLUENTD), [[1, 'fluentd:v1']]);

      // A rebuild from scratch comes to the same state.
      const fresh = await f.rebuild();
      assert.deepEqual(await images(fresh.store, FLUENTD), [[1, 'fluentd:v1']]);
      assert.deepEqual(
        (await fresh.store.getDaemonSet(FLUENTD))!.errors.map((e) => e.code),
        ['KindChanged'],
      );

      // Back to kind: DaemonSet with the last good template: recovered, no new revision.
      commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'back to a DaemonSet', by('Bob', 4));
      r = await f.sync.sync();
      assert.deepEqual(changesOf(r), [[FLUENTD, ['recovered']]]);
      assert.deepEqual(await images(f.store, FLUENTD), [[1, 'fluentd:v1']]);

      // Deleting the document (as the message says) removes the DaemonSet.
      commitFiles(f.repo, { 'deploy/fluentd.yaml': asDeployment(fluentd('fluentd:v1')) }, 'again', by('Bob', 5));
      await f.sync.sync();
      assert.equal((await f.store.getDaemonSet(FLUENTD))?.errors[0]?.code, 'KindChanged');
      const configMap =
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fluentd-config\n  namespace: kube-system\n';
      commitFiles(f.repo, { 'deploy/fluentd.yaml': configMap }, 'drop the Deployment document', by('Bob', 6));
      r = await f.sync.sync();
      assert.deepEqual(changesOf(r), [[FLUENTD, ['deleted']]]);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(await f.store.listDaemonSets(), [EXPORTER]);
    });

    test('no error when the name only stays on an object the file already had, or on a new unrelated one', async () => {
      const f = syncFixture(stores);
      commitFiles(
        f.repo,
        {
          'deploy/fluentd.yaml': `${serviceAccount}---\n${fluentd('fluentd:v1')}`,
          'deploy/node-exporter.yaml': exporter('exporter:v1'),
        },
        'add',
        by('Alice', 1),
      );
      await f.sync.sync();

      // A new Deployment with a name no DaemonSet has: skipped, as before.
      commitFiles(
        f.repo,
        { 'deploy/web.yaml': asDeployment(daemonSetYaml({ name: 'web', image: 'nginx:1' })) },
        'web',
        by('Bob', 2),
      );
      let r = await f.sync.sync();
      assert.deepEqual([r.changes, r.errors], [[], []]);

      // The DaemonSet's document deleted, its ServiceAccount (same name) kept: a removal.
      commitFiles(f.repo, { 'deploy/fluentd.yaml': serviceAccount }, 'remove the fluentd DaemonSet', by('Bob', 3));
      r = await f.sync.sync();
      assert.deepEqual(changesOf(r), [[FLUENTD, ['deleted']]]);
      assert.deepEqual(r.errors, []);

      // But the DaemonSet turned into a Deployment next to its ServiceAccount is a kind change.
      commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': `${serviceAccount}---\n${fluentd('fluentd:v1')}` },
        'fluentd again',
        by('Bob', 4),
      );
      await f.sync.sync();
      commitFiles(
        f.repo,
        { 'deploy/fluentd.yaml': `${serviceAccount}---\n${asDeployment(fluentd('fluentd:v1'))}` },
        'fluentd as a Deployment',
        by('Bob', 5),
      );
      r = await f.sync.sync();
      assert.deepEqual(
        r.errors.map((e) => [e.code, e.file, e.line, e.column, e.message.slice(0, 16)]),
        [['KindChanged', 'deploy/fluentd.yaml', 8, 7, 'kind: Deployment']],
      );
      assert.deepEqual(await images(f.store, FLUENTD), [[1, 'fluentd:v1']]);

      // Then the Deployment document deleted, the ServiceAccount kept: the DaemonSet goes.
      commitFiles(f.repo, { 'deploy/fluentd.yaml': serviceAccount }, 'drop the Deployment', by('Bob', 6));
      r = await f.sync.sync();
      assert.deepEqual(changesOf(r), [[FLUENTD, ['deleted']]]);
      assert.deepEqual(r.errors, []);
    });

    test('a DaemonSet moved to another file while its old document becomes a Deployment: no error', async () => {
      const f = syncFixture(stores);
      commitFiles(f.repo, { 'deploy/old.yaml': fluentd('fluentd:v1') }, 'v1', by('Alice', 1));
      await f.sync.sync();
      commitFiles(
        f.repo,
        {
          'deploy/old.yaml': asDeployment(fluentd('fluentd:v1')),
          'deploy/logging/fluentd.yaml': fluentd('fluentd:v1'),
        },
        'move the DaemonSet, keep a Deployment of the same name',
        by('Alice', 2),
      );
      const r = await f.sync.sync();
      assert.deepEqual([r.changes, r.errors], [[], []]);
      const record = (await f.store.getDaemonSet(FLUENTD))!;
      assert.equal(record.desired.file, 'deploy/logging/fluentd.yaml');
      assert.deepEqual((await f.store.getClaims([FLUENTD])).get(FLUENTD), ['deploy/logging/fluentd.yaml']);
    });
  });

  describe(`GitSync: a manifest replaced by a symlink or a submodule (${kind} store)`, () => {
    const stores = new StoreFactory(kind);
    after(() => stores.close());

    test('a symlink is an error holding its DaemonSets, never followed; its claims survive a restart', async () => {
      const f = syncFixture(stores);
      await addBoth(f);

      const linked = commitSymlink(f.repo, 'deploy/fluentd.yaml', outsideFile(), 'link fluentd', 2);
      let r = await f.sync.sync();
      const expected = {
        code: 'ManifestNotRegularFile',
        message:
          'deploy/fluentd.yaml is a symbolic link; dsctl reads regular files only (a link may point outside the ' +
          'repository). Commit the manifest itself in its place, or delete the path',
        file: 'deploy/fluentd.yaml',
        line: 1,
        column: 1,
        commit: linked,
      };
      assert.deepEqual(r.errors, [expected]);
      assert.deepEqual(changesOf(r), [[FLUENTD, ['error']]]);
      assert.deepEqual((await f.store.getDaemonSet(FLUENTD))!.errors, [{ ...expected, key: FLUENTD }]);
      assert.deepEqual(await images(f.store, FLUENTD), [[1, 'fluentd:v1']]);
      assert.deepEqual((await f.store.getFiles(['deploy/fluentd.yaml'])).get('deploy/fluentd.yaml'), {
        blob: null,
        keys: [FLUENTD],
        notRegular: 'symbolic link',
      });
      assert.deepEqual((await f.store.getFileErrors()).get('deploy/fluentd.yaml'), [expected]);

      // A new process on the same store: the file record keeps the claim; other commits leave it held.
      const restart = (): GitSync =>
        new GitSync({
          source: new SimpleGitSource({ url: f.repo.dir, branch: 'main', dir: tempDir('dsctl-clone') }),
          store: f.store,
          path: 'deploy',
        });
      let sync = restart();
      commitFiles(f.repo, { 'deploy/node-exporter.yaml': exporter('exporter:v2') }, 'bump exporter', by('Bob', 3));
      r = await sync.sync();
      assert.equal(r.rebuilt, false);
      assert.deepEqual(changesOf(r), [[EXPORTER, ['revision', 'spec']]]);
      assert.deepEqual(
        (await f.store.getDaemonSet(FLUENTD))!.errors.map((e) => e.commit),
        [linked],
      );

      // The same rebuilt from scratch.
      const fresh = await f.rebuild();
      assert.deepEqual(await images(fresh.store, FLUENTD), [[1, 'fluentd:v1']]);
      assert.deepEqual(
        (await fresh.store.getDaemonSet(FLUENTD))!.errors.map((e) => e.code),
        ['ManifestNotRegularFile'],
      );

      // The file back: recovered without a new revision.
      commitInPlaceOfLink(f.repo, 'deploy/fluentd.yaml', fluentd('fluentd:v1'), 'unlink', 4);
      r = await sync.sync();
      assert.deepEqual(changesOf(r), [[FLUENTD, ['recovered']]]);
      assert.equal((await f.store.getFileErrors()).has('deploy/fluentd.yaml'), false);

      // Linked again, then (after a restart) the link deleted: now the DaemonSet is removed.
      commitSymlink(f.repo, 'deploy/fluentd.yaml', 'node-exporter.yaml', 'link again (inside the repository)', 5);
      await sync.sync();
      assert.deepEqual(await images(f.store, FLUENTD), [[1, 'fluentd:v1']]);
      sync = restart();
      commitFiles(f.repo, { 'deploy/fluentd.yaml': null }, 'delete the link', by('Bob', 6));
      r = await sync.sync();
      assert.deepEqual(changesOf(r), [[FLUENTD, ['deleted']]]);
      assert.deepEqual(await f.store.listDaemonSets(), [EXPORTER]);
      assert.deepEqual([...(await f.store.getFiles(['deploy/fluentd.yaml'])).keys()], []);
    });

    test('a submodule in place of a manifest is an error too; a new one names no DaemonSet', async () => {
      const f = syncFixture(stores);
      await addBoth(f);
      const sub = commitSubmodule(f.repo, 'deploy/node-exporter.yaml', 'exporter as a submodule', 2);
      const added = commitSubmodule(f.repo, 'deploy/vendor.yaml', 'a new submodule', 3);
      const r = await f.sync.sync();
      assert.deepEqual(
        r.errors.map((e) => [e.code, e.file, e.commit, e.message.split(';')[0]]),
        [
          ['ManifestNotRegularFile', 'deploy/node-exporter.yaml', sub, 'deploy/node-exporter.yaml is a submodule'],
          ['ManifestNotRegularFile', 'deploy/vendor.yaml', added, 'deploy/vendor.yaml is a submodule'],
        ],
      );
      assert.deepEqual(changesOf(r), [[EXPORTER, ['error']]]);
      assert.deepEqual(await images(f.store, EXPORTER), [[1, 'exporter:v1']]);
      assert.deepEqual([...(await f.store.getFileErrors()).keys()].sort(), [
        'deploy/node-exporter.yaml',
        'deploy/vendor.yaml',
      ]);
    });
  });
}

describe('GitSync: the only manifest replaced by a symlink', () => {
  const stores = new StoreFactory('memory');
  after(() => stores.close());

  test('is held like any broken file (it still claims its DaemonSet, so the path is not empty)', async () => {
    const f = syncFixture(stores);
    commitFiles(f.repo, { 'deploy/fluentd.yaml': fluentd('fluentd:v1') }, 'add', by('Alice', 1));
    await f.sync.sync();
    commitSymlink(f.repo, 'deploy/fluentd.yaml', outsideFile(), 'link', 2);
    const r = await f.sync.sync();
    assert.deepEqual(
      r.errors.map((e) => e.code),
      ['ManifestNotRegularFile'],
    );
    assert.deepEqual(await images(f.store, FLUENTD), [[1, 'fluentd:v1']]);
  });
});
