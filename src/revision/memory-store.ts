/**
 * {@link HistoryStore} in process memory: the offline `rollout history --repo` audit and tests use
 * it to replay Git with no Redis. Values are deep-copied in and out, like a real store.
 */
import type {
  DaemonSetRecord,
  FileRecord,
  HistoryStore,
  ManifestError,
  SourceMeta,
  SourceStatus,
  StoreCommit,
} from './store.js';

export class MemoryHistoryStore implements HistoryStore {
  private cursor: string | null = null;
  private meta: SourceMeta | null = null;
  private status: SourceStatus = { failures: 0 };
  private files = new Map<string, FileRecord>();
  private pending = new Set<string>();
  private claims = new Map<string, string[]>();
  private daemonSets = new Map<string, DaemonSetRecord>();
  private fileErrors = new Map<string, ManifestError[]>();

  async getCursor(): Promise<string | null> {
    return this.cursor;
  }

  async getMeta(): Promise<SourceMeta | null> {
    return copy(this.meta);
  }

  async getFiles(paths: readonly string[]): Promise<Map<string, FileRecord>> {
    return pick(this.files, paths);
  }

  async getPendingFiles(): Promise<string[]> {
    return [...this.pending].sort();
  }

  async getClaims(keys: readonly string[]): Promise<Map<string, string[]>> {
    return pick(this.claims, keys);
  }

  async countClaimed(): Promise<number> {
    return this.claims.size;
  }

  async getDaemonSets(keys: readonly string[]): Promise<Map<string, DaemonSetRecord>> {
    return pick(this.daemonSets, keys);
  }

  async getDaemonSet(key: string): Promise<DaemonSetRecord | undefined> {
    return copy(this.daemonSets.get(key));
  }

  async listDaemonSets(): Promise<string[]> {
    return [...this.daemonSets.keys()].sort();
  }

  async getFileErrors(): Promise<Map<string, ManifestError[]>> {
    return copy(new Map(this.fileErrors));
  }

  async getSourceStatus(): Promise<SourceStatus> {
    return copy(this.status);
  }

  async setSourceStatus(status: SourceStatus): Promise<void> {
    this.status = copy(status);
  }

  async commit(change: StoreCommit): Promise<boolean> {
    if (this.cursor !== change.expectedCursor) return false;
    if (change.reset) {
      this.files.clear();
      this.claims.clear();
      this.daemonSets.clear();
      this.fileErrors.clear();
    }
    this.pending = new Set(change.pending);
    apply(this.files, change.files);
    apply(this.claims, change.claims as ReadonlyMap<string, string[] | null>, (v) => v.length === 0);
    apply(this.daemonSets, change.daemonSets);
    apply(this.fileErrors, change.fileErrors as ReadonlyMap<string, ManifestError[] | null>, (v) => v.length === 0);
    this.meta = copy(change.meta);
    this.cursor = change.cursor;
    return true;
  }
}

function apply<T>(target: Map<string, T>, changes: ReadonlyMap<string, T | null>, isEmpty?: (v: T) => boolean): void {
  for (const [key, value] of changes) {
    if (value === null || isEmpty?.(value)) target.delete(key);
    else target.set(key, copy(value));
  }
}

function pick<T>(source: Map<string, T>, keys: readonly string[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const key of keys) {
    const v = source.get(key);
    if (v !== undefined) out.set(key, copy(v));
  }
  return out;
}

function copy<T>(value: T): T {
  return value === null || value === undefined ? value : structuredClone(value);
}
