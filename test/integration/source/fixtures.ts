/**
 * Shared set-up for the Git source tests: a real temporary repository, a `SimpleGitSource` on a
 * bare clone of it, a store (memory or a uniquely prefixed Redis) and a parse counter.
 */
import type { Redis } from 'ioredis';
import { parseManifests } from '../../../src/manifest/index.js';
import { MemoryHistoryStore } from '../../../src/revision/memory-store.js';
import { RedisHistoryStore, type HistoryStore } from '../../../src/revision/store.js';
import { GitSync, type GitSyncOptions } from '../../../src/source/git-sync.js';
import type { ParseManifests } from '../../../src/source/manifest-file.js';
import { SimpleGitSource } from '../../../src/source/simple-git-source.js';
import { makeRepo, tempDir, type Author, type TestRepo } from '../../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';

export type StoreKind = 'memory' | 'redis';

/** Opens stores of one kind; `close()` deletes every Redis key it made and disconnects. */
export class StoreFactory {
  private redis?: Redis;
  private readonly prefixes: string[] = [];

  constructor(readonly kind: StoreKind) {}

  create(label = 'git-sync'): HistoryStore {
    if (this.kind === 'memory') return new MemoryHistoryStore();
    this.redis ??= connectTestRedis();
    const prefix = uniquePrefix(label);
    this.prefixes.push(prefix);
    return new RedisHistoryStore(this.redis, { prefix });
  }

  connection(): Redis | undefined {
    return this.redis;
  }

  async close(): Promise<void> {
    if (!this.redis) return;
    for (const p of this.prefixes.splice(0)) await cleanupPrefix(this.redis, p);
    await this.redis.quit();
    this.redis = undefined;
  }
}

/** A parse function that counts its calls. */
export function countingParse(): { parse: ParseManifests; count: () => number } {
  let n = 0;
  return {
    parse: (text, opts) => {
      n++;
      return parseManifests(text, opts);
    },
    count: () => n,
  };
}

export interface SyncFixture {
  repo: TestRepo;
  source: SimpleGitSource;
  store: HistoryStore;
  sync: GitSync;
  parses: () => number;
  /** A second GitSync on a fresh store and a fresh clone: a from-scratch rebuild of the same branch. */
  rebuild(options?: Partial<GitSyncOptions>): Promise<{ store: HistoryStore; sync: GitSync }>;
}

export function syncFixture(
  stores: StoreFactory,
  options: Partial<GitSyncOptions> & { repo?: TestRepo; url?: string } = {},
): SyncFixture {
  const repo = options.repo ?? makeRepo();
  const source = new SimpleGitSource({ url: options.url ?? repo.dir, branch: 'main', dir: tempDir('dsctl-clone') });
  const store = stores.create();
  const counter = countingParse();
  const { repo: _r, url: _u, ...rest } = options;
  const sync = new GitSync({ source, store, path: 'deploy', parse: counter.parse, ...rest });
  return {
    repo,
    source,
    store,
    sync,
    parses: counter.count,
    async rebuild(extra = {}) {
      const freshStore = stores.create('rebuild');
      const freshSource = new SimpleGitSource({
        url: options.url ?? repo.dir,
        branch: 'main',
        dir: tempDir('dsctl-clone'),
      });
      const freshSync = new GitSync({ source: freshSource, store: freshStore, path: 'deploy', ...rest, ...extra });
      await freshSync.sync();
      return { store: freshStore, sync: freshSync };
    },
  };
}

/** Author with a fixed date on day `day` of January 2024. */
export function by(name: string, day: number): Author {
  return {
    name,
    email: `${name.toLowerCase()}@example.com`,
    date: `2024-01-${String(day).padStart(2, '0')}T10:00:00Z`,
  };
}
