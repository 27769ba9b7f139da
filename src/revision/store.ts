/**
 * Persistence of the Git-derived state: the cursor (last processed commit), per-DaemonSet revision
 * history, the latest good desired object, current errors, and the per-file index that lets an
 * incremental sync read only what a commit changed. Redis holds a cache of Git: every byte here can
 * be rebuilt by replaying the branch (product.md "Sources of truth").
 *
 * {@link RedisHistoryStore} writes a whole sync in one Lua script that first checks the cursor is
 * still the one the sync started from, so a crash or a concurrent replica never leaves half a sync.
 */
import type { Redis } from 'ioredis';
import type { DaemonSet } from '../domain/kubernetes.js';
import type { DaemonSetHistory } from './history.js';
import { historyKeys, type HistoryKeys } from './keys.js';

/** A manifest problem recorded against a DaemonSet or a file. */
export interface ManifestError {
  /** Parser code, or `DuplicateDaemonSet`, `SourcePathEmpty`, `KindChanged`, `ManifestNotRegularFile`, `ManifestUnreadable`. */
  readonly code: string;
  readonly message: string;
  /** Commit that introduced the problem. */
  readonly commit: string;
  /** Repository-relative file; `''` for the tracked path as a whole. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field?: string;
  /** `namespace/name` when the error names a DaemonSet. */
  readonly key?: string;
}

/** The latest good desired DaemonSet and where in Git it came from. */
export interface DesiredState {
  /** As parsed, DaemonSet-level defaults applied, template untouched. */
  readonly daemonSet: DaemonSet;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly documentIndex: number;
  /** Commit whose manifest this is. */
  readonly commit: string;
  /** Removed from Git while pruning is off: kept, but no file defines it any more. */
  readonly orphaned?: boolean;
}

/** Everything known about one DaemonSet. */
export interface DaemonSetRecord {
  /** `namespace/name`. */
  readonly key: string;
  readonly history: DaemonSetHistory;
  readonly desired: DesiredState;
  /** Problems currently holding the DaemonSet at its last good state; empty when healthy. */
  readonly errors: readonly ManifestError[];
}

/** What a manifest file under the tracked path last contributed. */
export interface FileRecord {
  /** Blob id in Git now; `null` once deleted (kept only while `pending` or `notRegular`). */
  readonly blob: string | null;
  /** DaemonSets this file defines (claims), in document order. */
  readonly keys: readonly string[];
  /** The file's latest content is not applied yet (a refused emptying commit); re-read next commit. */
  readonly pending?: boolean;
  /**
   * The path holds a symbolic link or a submodule, not a file: an error that keeps the claims in
   * `keys` (so the DaemonSets stay at their last good state) until a file or a deletion replaces it.
   */
  readonly notRegular?: 'symbolic link' | 'submodule';
}

/** Which source the state was built from; a different one forces a rebuild. */
export interface SourceMeta {
  readonly url: string;
  readonly branch: string;
  readonly path: string;
  readonly head: string;
  /** Epoch ms. */
  readonly syncedAt: number;
  readonly rebuiltAt?: number;
  readonly rebuildReason?: string;
}

/** Health of fetching the repository (the `SourceFetchFailed` condition and its backoff). */
export interface SourceStatus {
  /** Consecutive failed fetches; 0 when the last one worked. */
  readonly failures: number;
  /** Epoch ms before which a poll should not fetch again. */
  readonly nextRetryAt?: number;
  /** Sanitized message of the last failure. */
  readonly lastError?: string;
  readonly lastFailureAt?: number;
  readonly lastSuccessAt?: number;
}

/** One sync's writes, applied atomically if the cursor is still `expectedCursor`. */
export interface StoreCommit {
  readonly expectedCursor: string | null;
  readonly cursor: string;
  readonly meta: SourceMeta;
  /** Drop all Git-derived state first (a rebuild); the maps then hold the complete new state. */
  readonly reset: boolean;
  /** `null` deletes. */
  readonly files: ReadonlyMap<string, FileRecord | null>;
  /** The complete set of pending files after this commit. */
  readonly pending: readonly string[];
  readonly claims: ReadonlyMap<string, readonly string[] | null>;
  readonly daemonSets: ReadonlyMap<string, DaemonSetRecord | null>;
  readonly fileErrors: ReadonlyMap<string, readonly ManifestError[] | null>;
}

/** Storage seam of the Git sync: Redis for workers, memory for the offline CLI. */
export interface HistoryStore {
  getCursor(): Promise<string | null>;
  getMeta(): Promise<SourceMeta | null>;
  getFiles(paths: readonly string[]): Promise<Map<string, FileRecord>>;
  getPendingFiles(): Promise<string[]>;
  getClaims(keys: readonly string[]): Promise<Map<string, string[]>>;
  /** How many DaemonSets are defined by at least one file. */
  countClaimed(): Promise<number>;
  getDaemonSets(keys: readonly string[]): Promise<Map<string, DaemonSetRecord>>;
  getDaemonSet(key: string): Promise<DaemonSetRecord | undefined>;
  listDaemonSets(): Promise<string[]>;
  /** Errors that belong to files (including ones naming no known DaemonSet); `''` is the path itself. */
  getFileErrors(): Promise<Map<string, ManifestError[]>>;
  getSourceStatus(): Promise<SourceStatus>;
  setSourceStatus(status: SourceStatus): Promise<void>;
  /** @returns false (and writes nothing) when the cursor is no longer `expectedCursor`. */
  commit(change: StoreCommit): Promise<boolean>;
}

/**
 * KEYS[1] cursor, KEYS[2..] keys named by ops. ARGV[1] expected cursor ('' = none), ARGV[2] new
 * cursor, then ops of 4 ARGV each: opcode, key index (into KEYS), arg1, arg2.
 * Output: 1 applied, 0 cursor mismatch.
 */
const COMMIT_SCRIPT = `
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 4 do
  local op, key, a, b = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3]
  if op == 'del' then redis.call('DEL', key)
  elseif op == 'set' then redis.call('SET', key, a)
  elseif op == 'hset' then redis.call('HSET', key, a, b)
  elseif op == 'hdel' then redis.call('HDEL', key, a)
  elseif op == 'sadd' then redis.call('SADD', key, a)
  elseif op == 'srem' then redis.call('SREM', key, a)
  end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

export interface RedisHistoryStoreOptions {
  /** Key prefix; all keys live under the hash tag `{prefix}`. @defaultValue 'dsctl' */
  readonly prefix?: string;
}

/** {@link HistoryStore} in Redis under `{prefix}:…` (layout in `keys.ts`). */
export class RedisHistoryStore implements HistoryStore {
  readonly keys: HistoryKeys;

  constructor(
    private readonly redis: Redis,
    options: RedisHistoryStoreOptions = {},
  ) {
    this.keys = historyKeys(options.prefix ?? 'dsctl');
  }

  async getCursor(): Promise<string | null> {
    return (await this.redis.get(this.keys.cursor)) ?? null;
  }

  async getMeta(): Promise<SourceMeta | null> {
    return parseJson<SourceMeta>(await this.redis.get(this.keys.meta)) ?? null;
  }

  async getFiles(paths: readonly string[]): Promise<Map<string, FileRecord>> {
    return this.hmgetJson<FileRecord>(this.keys.files, paths);
  }

  async getPendingFiles(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.pending)).sort();
  }

  async getClaims(keys: readonly string[]): Promise<Map<string, string[]>> {
    return this.hmgetJson<string[]>(this.keys.claims, keys);
  }

  async countClaimed(): Promise<number> {
    return this.redis.hlen(this.keys.claims);
  }

  async getDaemonSets(keys: readonly string[]): Promise<Map<string, DaemonSetRecord>> {
    const out = new Map<string, DaemonSetRecord>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 1000) {
      const chunk = unique.slice(i, i + 1000);
      const names = chunk.flatMap((k) => [this.keys.revisions(k), this.keys.desired(k), this.keys.dsErrors(k)]);
      const values = await this.redis.mget(...names);
      chunk.forEach((key, j) => {
        const history = parseJson<DaemonSetHistory>(values[3 * j]);
        const desired = parseJson<DesiredState>(values[3 * j + 1]);
        if (history && desired) out.set(key, { key, history, desired, errors: parseJson(values[3 * j + 2]) ?? [] });
      });
    }
    return out;
  }

  async getDaemonSet(key: string): Promise<DaemonSetRecord | undefined> {
    return (await this.getDaemonSets([key])).get(key);
  }

  async listDaemonSets(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.index)).sort();
  }

  async getFileErrors(): Promise<Map<string, ManifestError[]>> {
    const all = await this.redis.hgetall(this.keys.errors);
    return new Map(Object.entries(all).map(([file, v]) => [file, parseJson<ManifestError[]>(v) ?? []]));
  }

  async getSourceStatus(): Promise<SourceStatus> {
    return parseJson<SourceStatus>(await this.redis.get(this.keys.status)) ?? { failures: 0 };
  }

  async setSourceStatus(status: SourceStatus): Promise<void> {
    await this.redis.set(this.keys.status, JSON.stringify(status));
  }

  async commit(change: StoreCommit): Promise<boolean> {
    const keys: string[] = [this.keys.cursor];
    const keyIndex = new Map<string, number>();
    const ref = (key: string): string => {
      let i = keyIndex.get(key);
      if (i === undefined) {
        keys.push(key);
        i = keys.length; // Lua KEYS are 1-based
        keyIndex.set(key, i);
      }
      return String(i);
    };
    const ops: string[] = [];
    const op = (code: string, key: string, a = '', b = ''): void => {
      ops.push(code, ref(key), a, b);
    };

    if (change.reset) {
      for (const key of await this.listDaemonSets()) {
        op('del', this.keys.revisions(key));
        op('del', this.keys.desired(key));
        op('del', this.keys.dsErrors(key));
      }
      for (const key of [this.keys.files, this.keys.claims, this.keys.errors, this.keys.index]) op('del', key);
    }
    op('del', this.keys.pending);
    for (const file of change.pending) op('sadd', this.keys.pending, file);
    for (const [file, record] of change.files) {
      if (record === null) op('hdel', this.keys.files, file);
      else op('hset', this.keys.files, file, JSON.stringify(record));
    }
    for (const [key, files] of change.claims) {
      if (files === null || files.length === 0) op('hdel', this.keys.claims, key);
      else op('hset', this.keys.claims, key, JSON.stringify(files));
    }
    for (const [file, errors] of change.fileErrors) {
      if (errors === null || errors.length === 0) op('hdel', this.keys.errors, file);
      else op('hset', this.keys.errors, file, JSON.stringify(errors));
    }
    for (const [key, record] of change.daemonSets) {
      if (record === null) {
        op('del', this.keys.revisions(key));
        op('del', this.keys.desired(key));
        op('del', this.keys.dsErrors(key));
        op('srem', this.keys.index, key);
      } else {
        op('set', this.keys.revisions(key), JSON.stringify(record.history));
        op('set', this.keys.desired(key), JSON.stringify(record.desired));
        if (record.errors.length > 0) op('set', this.keys.dsErrors(key), JSON.stringify(record.errors));
        else op('del', this.keys.dsErrors(key));
        op('sadd', this.keys.index, key);
      }
    }
    op('set', this.keys.meta, JSON.stringify(change.meta));

    // One array argument (ioredis flattens it): spreading tens of thousands of args overflows the stack.
    const args: string[] = keys.concat([change.expectedCursor ?? '', change.cursor], ops);
    const result = await this.redis.eval(COMMIT_SCRIPT, keys.length, args);
    return Number(result) === 1;
  }

  private async hmgetJson<T>(key: string, fields: readonly string[]): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const unique = [...new Set(fields)];
    for (let i = 0; i < unique.length; i += 5000) {
      const chunk = unique.slice(i, i + 5000);
      const values = await this.redis.hmget(key, ...chunk);
      chunk.forEach((field, j) => {
        const v = parseJson<T>(values[j]);
        if (v !== undefined) out.set(field, v);
      });
    }
    return out;
  }
}

function parseJson<T>(text: string | null | undefined): T | undefined {
  if (text === null || text === undefined) return undefined;
  return JSON.parse(text) as T;
}
