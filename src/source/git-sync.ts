/**
 * Turns the first-parent commit chain of a branch into per-DaemonSet revision histories, desired
 * objects and errors, incrementally, with the state in a {@link HistoryStore}.
 *
 * One `sync()` = one fetch; when the head moved, one `git log --raw` for all new commits (which also
 * checks that the cursor is on the head's first-parent chain, when the source offers
 * `changesSince`), one `git cat-file --batch` read per window of blobs, a parse of each changed
 * manifest file only, and one atomic store commit guarded by the cursor. Work grows with the size
 * of the change, not of the repository (store reads are keyed by the changed files and the
 * DaemonSets they name).
 *
 * Assumptions:
 * - Only `*.yaml|*.yml|*.json` files under `path` are manifests; one DaemonSet per `namespace/name`.
 * - A file with any problem drops no DaemonSet: the ones it still validly defines are applied, the
 *   ones named by an error are held at their last good state with that error, and the ones it
 *   defined before but neither defines validly nor names now are held with all the file's errors
 *   (a syntax error may hide or misname them).
 * - A DaemonSet whose document became another kind with the same name (`KindChanged`) and a file
 *   replaced by a symlink or a submodule (`ManifestNotRegularFile`, never followed) are such
 *   problems, not removals.
 *
 * Invariants:
 * - Replaying the same branch from an empty store gives the same revision numbers (history.ts).
 * - A commit that would leave the path without any DaemonSet deletes nothing (`SourcePathEmpty`).
 * - Two files defining the same DaemonSet: the earlier (already owning) file stays authoritative.
 * - Nothing is written unless the whole sync succeeded and the cursor did not move meanwhile.
 */
import { parseManifests } from '../manifest/index.js';
import { applyDaemonSet, currentRevision, type HashFunction } from '../revision/history.js';
import type {
  DaemonSetRecord,
  FileRecord,
  HistoryStore,
  ManifestError,
  SourceMeta,
  SourceStatus,
  StoreCommit,
} from '../revision/store.js';
import { GitSourceError } from './errors.js';
import type { CommitChanges, CursorCheck, FileChange, GitSource, NotRegularFile } from './git-source.js';
import {
  EMPTY_MANIFEST_FILE,
  isManifestPath,
  readManifestFile,
  type FileProblem,
  type ManifestDocument,
  type ManifestFile,
  type OtherKindDocument,
  type ParseManifests,
} from './manifest-file.js';
import { DocumentParseCache } from './document-cache.js';
import { sanitizeMessage } from './redact.js';
import { validatePath } from './validate.js';

/** Why the whole history was rebuilt from Git instead of continuing from the cursor. */
export type RebuildReason = 'ForcePushed' | 'CursorUnknown' | 'SourceChanged';

/** What happened to one DaemonSet in a sync; the worker enqueues one reconcile per entry. */
export type DaemonSetChangeKind =
  'created' | 'revision' | 'spec' | 'metadata' | 'deleted' | 'orphaned' | 'error' | 'recovered';

export interface DaemonSetChange {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly kinds: readonly DaemonSetChangeKind[];
  /** Current revision number and hash after the sync (absent when deleted). */
  readonly revision?: number;
  readonly hash?: string;
  readonly generation?: number;
  /** Errors now holding the DaemonSet back (when `error` is among the kinds). */
  readonly errors?: readonly ManifestError[];
}

/** A Kubernetes-style condition on the source (`SourceFetchFailed`). */
export interface SourceCondition {
  readonly type: 'SourceFetchFailed';
  readonly status: 'True' | 'False';
  readonly reason: 'FetchFailed' | 'Succeeded';
  readonly message: string;
}

export interface SyncResult {
  /**
   * `synced`: new commits processed; `up-to-date`: head unchanged (one fetch, nothing parsed);
   * `fetch-failed`: git failed, state untouched, retry after `source.nextRetryAt`; `backoff`: skipped
   * because of an earlier failure; `conflict`: another replica moved the cursor, nothing written.
   */
  readonly outcome: 'synced' | 'up-to-date' | 'fetch-failed' | 'backoff' | 'conflict';
  readonly head: string | null;
  readonly previousCursor: string | null;
  readonly cursor: string | null;
  /** First sync on an empty store. */
  readonly initial: boolean;
  readonly rebuilt: boolean;
  readonly reason?: RebuildReason;
  /** Commits replayed (those touching the tracked path). */
  readonly commits: number;
  /** Calls to the manifest parser (one per new document text; unchanged documents are cached). */
  readonly parsed: number;
  readonly changes: readonly DaemonSetChange[];
  /** Errors raised by the commits of this sync. */
  readonly errors: readonly ManifestError[];
  readonly source: SourceStatus;
  readonly condition: SourceCondition;
}

export interface GitSyncOptions {
  readonly source: GitSource;
  readonly store: HistoryStore;
  /** Directory (or file) inside the repository; `''` is the root. @defaultValue '' */
  readonly path?: string;
  /** Delete DaemonSets removed from Git; `false` keeps them (`orphaned`). @defaultValue true */
  readonly prune?: boolean;
  /** Overrides every DaemonSet's `revisionHistoryLimit` (`Infinity` keeps the whole history). */
  readonly revisionHistoryLimit?: number;
  /** Hashes still running per DaemonSet, never pruned (from the fleet; absent in a Git-only rebuild). */
  readonly liveHashes?: (key: string) => ReadonlySet<string> | undefined;
  readonly parse?: ParseManifests;
  readonly hash?: HashFunction;
  /** Largest manifest file parsed, in bytes. */
  readonly maxFileBytes?: number;
  /** Blobs read per `cat-file --batch` (bounds memory on long rebuilds). @defaultValue 2000 */
  readonly blobWindow?: number;
  /** Epoch ms. @defaultValue Date.now */
  readonly clock?: () => number;
  /** Fetch retry backoff: `initialMs * 2^(failures-1)`, capped. @defaultValue 5 s, 5 min */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

const SOURCE_LEVEL = '';
const COMMIT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

export class GitSync {
  private readonly source: GitSource;
  private readonly store: HistoryStore;
  private readonly path: string;
  private readonly prune: boolean;
  private readonly parse: ParseManifests;
  private running: Promise<unknown> = Promise.resolve();
  /** Kept across syncs: an incremental commit re-parses only the documents it changed. */
  private readonly documents: DocumentParseCache;
  private readonly clock: () => number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: GitSyncOptions) {
    this.source = options.source;
    this.store = options.store;
    this.path = validatePath(options.path ?? '');
    this.prune = options.prune ?? true;
    this.parse = options.parse ?? parseManifests;
    this.documents = new DocumentParseCache(this.parse);
    this.clock = options.clock ?? Date.now;
    this.initialBackoffMs = options.backoff?.initialMs ?? 5_000;
    this.maxBackoffMs = options.backoff?.maxMs ?? 300_000;
  }

  /**
   * Fetches and processes every new commit. Never throws for git trouble (that becomes
   * `fetch-failed` with a backoff); store errors propagate.
   * @param opts.force fetch even while backing off (e.g. on a push webhook).
   */
  async sync(opts: { force?: boolean } = {}): Promise<SyncResult> {
    // One sync at a time per instance; a second caller waits and then syncs on its own.
    const run = this.running.then(() => this.syncOnce(opts));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async syncOnce(opts: { force?: boolean }): Promise<SyncResult> {
    const now = this.clock();
    const status = await this.store.getSourceStatus();
    const previousCursor = await this.store.getCursor();
    const base = { head: null, previousCursor, cursor: previousCursor, initial: false, rebuilt: false };
    const empty = { commits: 0, parsed: 0, changes: [], errors: [] };
    if (!opts.force && status.nextRetryAt !== undefined && now < status.nextRetryAt) {
      return { ...base, ...empty, outcome: 'backoff', source: status, condition: failedCondition(status) };
    }
    try {
      const head = await this.source.fetch();
      const result = await this.process(head, previousCursor);
      const ok: SourceStatus = { failures: 0, lastSuccessAt: now };
      if (status.failures > 0 || result.outcome !== 'up-to-date' || status.lastSuccessAt === undefined) {
        await this.store.setSourceStatus(ok);
      }
      return { ...result, source: ok, condition: OK_CONDITION };
    } catch (err) {
      if (!(err instanceof GitSourceError)) throw err;
      const failures = status.failures + 1;
      const failed: SourceStatus = {
        ...status,
        failures,
        lastError: sanitizeMessage(err.message),
        lastFailureAt: now,
        nextRetryAt: now + Math.min(this.initialBackoffMs * 2 ** (failures - 1), this.maxBackoffMs),
      };
      await this.store.setSourceStatus(failed);
      return { ...base, ...empty, outcome: 'fetch-failed', source: failed, condition: failedCondition(failed) };
    }
  }

  private async process(
    head: string,
    previousCursor: string | null,
  ): Promise<Omit<SyncResult, 'source' | 'condition'>> {
    const meta = await this.store.getMeta();
    const sameSource =
      meta !== null &&
      meta.url === this.source.displayUrl &&
      meta.branch === this.source.branch &&
      meta.path === this.path;
    const unchanged = { commits: 0, parsed: 0, changes: [], errors: [] };
    if (previousCursor === head && sameSource) {
      return {
        outcome: 'up-to-date',
        head,
        previousCursor,
        cursor: head,
        initial: false,
        rebuilt: false,
        ...unchanged,
      };
    }

    let reason: RebuildReason | undefined;
    let commits: CommitChanges[] | undefined;
    if (previousCursor !== null) {
      if (!sameSource) reason = 'SourceChanged';
      else if (!COMMIT_ID.test(previousCursor)) reason = 'CursorUnknown';
      else {
        let check: CursorCheck;
        if (this.source.changesSince) {
          // One walk: the cursor check and, on a fast-forward, the new commits.
          const since = await this.source.changesSince(previousCursor, head, this.path);
          check = since.check;
          if (check === 'descendant') commits = since.commits;
        } else check = await this.source.checkCursor(previousCursor, head);
        if (check === 'diverged') reason = 'ForcePushed';
        else if (check === 'unknown') reason = 'CursorUnknown';
      }
    }
    const reset = previousCursor === null || reason !== undefined;
    commits ??= await this.source.listChanges(reset ? null : previousCursor, head, this.path);

    const ws = new Workspace(this.store, reset);
    await ws.loadPending();
    const callsBefore = this.documents.calls;
    const replay = new Replay(ws, this.options, this.source, this.documents, this.prune);
    await replay.run(commits, this.options.blobWindow ?? 2000);

    const baseline = reset ? await this.loadAll() : ws.baseline;
    if (reset) ws.settleRebuild(baseline, this.prune);
    const changes = diffRecords(baseline, ws.records);
    const syncedAt = this.clock();
    const newMeta: SourceMeta = {
      url: this.source.displayUrl,
      branch: this.source.branch,
      path: this.path,
      head,
      syncedAt,
      ...(reason !== undefined
        ? { rebuiltAt: syncedAt, rebuildReason: reason }
        : meta?.rebuiltAt !== undefined && sameSource
          ? { rebuiltAt: meta.rebuiltAt, rebuildReason: meta.rebuildReason }
          : {}),
    };
    const committed = await this.store.commit(ws.toCommit(previousCursor, head, newMeta));
    const common = {
      head,
      previousCursor,
      initial: previousCursor === null,
      rebuilt: reason !== undefined,
      ...(reason !== undefined ? { reason } : {}),
      commits: commits.length,
      parsed: this.documents.calls - callsBefore,
    };
    if (!committed) return { ...common, outcome: 'conflict', cursor: previousCursor, changes: [], errors: [] };
    return { ...common, outcome: 'synced', cursor: head, changes, errors: replay.raised };
  }

  private async loadAll(): Promise<Map<string, DaemonSetRecord>> {
    return this.store.getDaemonSets(await this.store.listDaemonSets());
  }
}

const OK_CONDITION: SourceCondition = {
  type: 'SourceFetchFailed',
  status: 'False',
  reason: 'Succeeded',
  message: 'fetched',
};

function failedCondition(status: SourceStatus): SourceCondition {
  if (status.failures === 0) return OK_CONDITION;
  return {
    type: 'SourceFetchFailed',
    status: 'True',
    reason: 'FetchFailed',
    message: `${status.lastError ?? 'fetch failed'} (${status.failures} consecutive failures)`,
  };
}

/**
 * The slice of store state one sync reads and writes. Loaded lazily by file and key; writes are
 * collected and handed to the store in one commit.
 */
class Workspace {
  readonly files = new Map<string, FileRecord | null>();
  readonly claims = new Map<string, string[]>();
  readonly records = new Map<string, DaemonSetRecord | null>();
  /** Records as they were before this sync, for the change report. */
  readonly baseline = new Map<string, DaemonSetRecord>();
  readonly fileErrors = new Map<string, ManifestError[] | null>();
  pending = new Set<string>();
  claimedCount = 0;
  private readonly claimsDirty = new Set<string>();

  constructor(
    private readonly store: HistoryStore,
    readonly reset: boolean,
  ) {}

  async loadPending(): Promise<void> {
    if (this.reset) return;
    this.pending = new Set(await this.store.getPendingFiles());
    this.claimedCount = await this.store.countClaimed();
    await this.loadFiles([...this.pending]);
  }

  async loadFiles(paths: readonly string[]): Promise<void> {
    const missing = paths.filter((p) => !this.files.has(p));
    if (missing.length === 0) return;
    const found = this.reset ? new Map<string, FileRecord>() : await this.store.getFiles(missing);
    for (const p of missing) this.files.set(p, found.get(p) ?? null);
  }

  async loadKeys(keys: Iterable<string>): Promise<void> {
    const missing = [...new Set(keys)].filter((k) => !this.records.has(k));
    if (missing.length === 0) return;
    const [claims, records] = this.reset
      ? [new Map<string, string[]>(), new Map<string, DaemonSetRecord>()]
      : await Promise.all([this.store.getClaims(missing), this.store.getDaemonSets(missing)]);
    for (const k of missing) {
      if (!this.claims.has(k)) this.claims.set(k, claims.get(k) ?? []);
      const r = records.get(k);
      this.records.set(k, r ?? null);
      if (r) this.baseline.set(k, r);
    }
  }

  claimsOf(key: string): string[] {
    return this.claims.get(key) ?? [];
  }

  setClaims(key: string, files: string[]): void {
    const before = this.claimsOf(key).length > 0;
    this.claims.set(key, files);
    this.claimsDirty.add(key);
    this.claimedCount += (files.length > 0 ? 1 : 0) - (before ? 1 : 0);
  }

  /**
   * After a rebuild, DaemonSets the old state had and Git no longer has are deleted, or with
   * pruning off kept and marked orphaned.
   */
  settleRebuild(before: ReadonlyMap<string, DaemonSetRecord>, prune: boolean): void {
    for (const [key, record] of before) {
      if (this.records.get(key)) continue;
      this.records.set(key, prune ? null : { ...record, desired: { ...record.desired, orphaned: true } });
    }
  }

  toCommit(expectedCursor: string | null, cursor: string, meta: SourceMeta): StoreCommit {
    const files = new Map<string, FileRecord | null>();
    for (const [p, r] of this.files) if (this.reset ? r !== null : true) files.set(p, r);
    const claims = new Map<string, string[] | null>();
    for (const k of this.claimsDirty) {
      const c = this.claimsOf(k);
      if (!this.reset || c.length > 0) claims.set(k, c.length > 0 ? c : null);
    }
    const daemonSets = new Map<string, DaemonSetRecord | null>();
    for (const [k, r] of this.records) if (!this.reset || r !== null) daemonSets.set(k, r);
    const fileErrors = new Map<string, ManifestError[] | null>();
    for (const [f, e] of this.fileErrors) if (!this.reset || (e !== null && e.length > 0)) fileErrors.set(f, e);
    return {
      expectedCursor,
      cursor,
      meta,
      reset: this.reset,
      files,
      pending: [...this.pending].sort(),
      claims,
      daemonSets,
      fileErrors,
    };
  }
}

/** What a commit leaves at a path: a blob, nothing (`null`), or something that is not a file. */
type PathState = Pick<FileChange, 'blob' | 'notRegular'>;

/** A {@link FileUpdate} before its dirtiness and claims are worked out. */
interface Draft extends PathState {
  readonly path: string;
  readonly before: FileRecord | null;
  parsed: ManifestFile;
}

interface FileUpdate extends Readonly<Draft> {
  /** The file has problems: it drops no claim, and DaemonSets it does not validly define are held. */
  readonly dirty: boolean;
  /** What the file claims after this commit. */
  readonly keys: readonly string[];
}

function pathState(blob: string | null, notRegular: NotRegularFile | undefined): PathState {
  return notRegular ? { blob: null, notRegular } : { blob };
}

/** A path that holds a symlink or a submodule: one problem naming the whole file (nothing is read). */
function notRegularFile(path: string, what: NotRegularFile): ManifestFile {
  const why =
    what === 'symbolic link'
      ? 'dsctl reads regular files only (a link may point outside the repository)'
      : 'dsctl reads regular files only';
  return {
    ...EMPTY_MANIFEST_FILE,
    fileProblems: [
      {
        code: 'ManifestNotRegularFile',
        message: `${path} is a ${what}; ${why}. Commit the manifest itself in its place, or delete the path`,
        file: path,
        line: 1,
        column: 1,
      },
    ],
  };
}

/** A kind as written, quoted when it is not a plain word. */
function renderKind(kind: string): string {
  return /^[A-Za-z][A-Za-z0-9.]*$/.test(kind) ? kind : JSON.stringify(kind);
}

/** The commit-by-commit replay of one sync. */
class Replay {
  readonly raised: ManifestError[] = [];
  private texts = new Map<string, string>();
  private parseCache = new Map<string, ManifestFile>();
  private readonly limit?: number;

  constructor(
    private readonly ws: Workspace,
    private readonly options: GitSyncOptions,
    private readonly source: GitSource,
    private readonly documents: DocumentParseCache,
    private readonly prune: boolean,
  ) {
    this.limit = options.revisionHistoryLimit;
  }

  async run(commits: readonly CommitChanges[], blobWindow: number): Promise<void> {
    let start = 0;
    let firstWindow = true;
    while (start < commits.length) {
      // A window of commits whose new blobs fit one cat-file batch (at least one commit).
      const blobs = new Set<string>();
      for (const p of this.ws.pending) addBlob(blobs, this.ws.files.get(p)?.blob);
      let end = start;
      while (end < commits.length) {
        const c = commits[end]!;
        const added = c.files.filter((f) => f.blob !== null && isManifestPath(f.path)).length;
        if (end > start && blobs.size + added > blobWindow) break;
        for (const f of c.files) if (isManifestPath(f.path)) addBlob(blobs, f.blob);
        end++;
      }
      const window = commits.slice(start, end);
      this.texts = await this.source.readBlobs([...blobs]);
      this.parseCache = new Map();
      await this.prefetch(window, firstWindow);
      for (const c of window) await this.applyCommit(c);
      start = end;
      firstWindow = false;
    }
  }

  /** Loads, in a few store round trips, the records every commit of the window will touch. */
  private async prefetch(window: readonly CommitChanges[], firstWindow: boolean): Promise<void> {
    const paths = new Set<string>(firstWindow ? this.ws.pending : []);
    for (const c of window) for (const f of c.files) if (isManifestPath(f.path)) paths.add(f.path);
    await this.ws.loadFiles([...paths]);
    const keys = new Set<string>();
    for (const p of paths) for (const k of this.ws.files.get(p)?.keys ?? []) keys.add(k);
    for (const c of window) {
      for (const f of c.files) {
        if (f.blob === null || !isManifestPath(f.path)) continue;
        for (const k of this.parseBlob(f.blob, f.path).keys) keys.add(k);
      }
    }
    if (firstWindow) {
      for (const p of this.ws.pending) {
        const blob = this.ws.files.get(p)?.blob;
        if (blob) for (const k of this.parseBlob(blob, p).keys) keys.add(k);
      }
    }
    await this.ws.loadKeys(keys);
  }

  private parseBlob(blob: string, path: string): ManifestFile {
    const cacheKey = `${blob}\0${path}`;
    let parsed = this.parseCache.get(cacheKey);
    if (parsed) return parsed;
    const text = this.texts.get(blob);
    if (text === undefined) {
      parsed = {
        ...EMPTY_MANIFEST_FILE,
        fileProblems: [
          { code: 'ManifestUnreadable', message: `blob ${blob} not found`, file: path, line: 1, column: 1 },
        ],
      };
    } else {
      const parse: ParseManifests = (t, o) => this.documents.parseFile(t, o?.file ?? path, o?.maxBytes);
      parsed = readManifestFile(parse, text, path, { maxBytes: this.options.maxFileBytes });
    }
    this.parseCache.set(cacheKey, parsed);
    return parsed;
  }

  private async applyCommit(c: CommitChanges): Promise<void> {
    const changed = new Map<string, PathState>();
    for (const f of c.files) if (isManifestPath(f.path)) changed.set(f.path, pathState(f.blob, f.notRegular));
    for (const p of this.ws.pending) {
      const r = this.ws.files.get(p);
      if (!changed.has(p)) changed.set(p, pathState(r?.blob ?? null, r?.notRegular));
    }
    if (changed.size === 0) return;
    await this.ws.loadFiles([...changed.keys()]);
    const unread = [...changed.values()]
      .map((s) => s.blob)
      .filter((b): b is string => b !== null && !this.texts.has(b));
    if (unread.length > 0) for (const [id, t] of await this.source.readBlobs(unread)) this.texts.set(id, t);

    const drafts: Draft[] = [];
    for (const path of [...changed.keys()].sort()) {
      const { blob, notRegular: what } = changed.get(path)!;
      const before = this.ws.files.get(path) ?? null;
      const parsed = what
        ? notRegularFile(path, what)
        : blob === null
          ? EMPTY_MANIFEST_FILE
          : this.parseBlob(blob, path);
      drafts.push({ path, blob, ...(what ? { notRegular: what } : {}), before, parsed });
    }
    await this.checkKindChanges(drafts);
    const updates: FileUpdate[] = drafts.map((d) => {
      const dirty = d.parsed.fileProblems.length > 0 || d.parsed.keyProblems.size > 0;
      const keys = dirty ? [...new Set([...(d.before?.keys ?? []), ...d.parsed.keys])] : d.parsed.keys;
      return { ...d, dirty, keys };
    });
    // Which updates mention each key (so per-key work never scans all updates of a large commit).
    const mentions = new Map<string, FileUpdate[]>();
    for (const u of updates) {
      for (const k of new Set([...(u.before?.keys ?? []), ...u.parsed.keys])) {
        const list = mentions.get(k);
        if (list) list.push(u);
        else mentions.set(k, [u]);
      }
    }
    const touched = new Set(mentions.keys());
    await this.ws.loadKeys(touched);

    // Claims after this commit, computed before anything is applied.
    const nextClaims = new Map<string, string[]>();
    for (const u of updates) {
      const beforeKeys = u.before?.keys ?? [];
      const after = new Set(u.keys);
      for (const k of beforeKeys) {
        if (after.has(k)) continue;
        nextClaims.set(
          k,
          (nextClaims.get(k) ?? this.ws.claimsOf(k)).filter((p) => p !== u.path),
        );
      }
      for (const k of u.keys) {
        const list = nextClaims.get(k) ?? this.ws.claimsOf(k);
        if (!list.includes(u.path)) nextClaims.set(k, [...list, u.path]);
      }
    }
    let claimedAfter = this.ws.claimedCount;
    for (const [k, list] of nextClaims) {
      claimedAfter += (list.length > 0 ? 1 : 0) - (this.ws.claimsOf(k).length > 0 ? 1 : 0);
    }

    if (this.ws.claimedCount > 0 && claimedAfter === 0) {
      this.refuseEmptying(c, updates, touched);
      return;
    }

    for (const [k, list] of nextClaims) this.ws.setClaims(k, list);
    for (const u of updates) {
      this.ws.pending.delete(u.path);
      // A symlink keeps its record (and so its claims) although it has no blob: the next change of
      // the path (a file again, or a deletion) starts from the keys it held.
      this.ws.files.set(
        u.path,
        u.blob === null && !u.notRegular
          ? null
          : { blob: u.blob, keys: u.keys, ...(u.notRegular ? { notRegular: u.notRegular } : {}) },
      );
      const problems = [...u.parsed.fileProblems, ...[...u.parsed.keyProblems.values()].flat()];
      const errors = problems.map((p) => toError(p, c.commit));
      this.ws.fileErrors.set(u.path, errors.length > 0 ? errors : null);
      this.raised.push(...errors);
    }
    if (this.ws.fileErrors.get(SOURCE_LEVEL) !== null) this.ws.fileErrors.set(SOURCE_LEVEL, null);

    const byPath = new Map(updates.map((u) => [u.path, u]));
    for (const key of [...touched].sort()) await this.applyKey(key, c, mentions.get(key) ?? [], byPath);
  }

  /**
   * A DaemonSet the file defined whose name now sits on a document of another kind (`kind:
   * DaemonSet` became `kind: Deployment`) was not removed but broken: it becomes a `KindChanged`
   * key problem of the file (which is then dirty and keeps the claim). Told apart from a deleted
   * DaemonSet document by the file's previous content: some kind gained a document of that name
   * (a ServiceAccount of the same name that was already there does not count), or, while the
   * DaemonSet is held by this error already, no such document was deleted. Not when another file
   * still defines the DaemonSet (it moved). Replaces the drafts' `parsed` with new objects (cached
   * ones stay as they are).
   */
  private async checkKindChanges(drafts: Draft[]): Promise<void> {
    const candidates: { draft: Draft; key: string; docs: readonly OtherKindDocument[] }[] = [];
    for (const d of drafts) {
      for (const key of d.before?.keys ?? []) {
        const docs = d.parsed.otherKinds.get(key);
        if (docs && !d.parsed.keys.includes(key)) candidates.push({ draft: d, key, docs });
      }
    }
    if (candidates.length === 0) return;
    await this.ws.loadKeys(candidates.map((x) => x.key));
    const changedPaths = new Set(drafts.map((d) => d.path));
    const oldBlobs = candidates
      .map((x) => x.draft.before?.blob ?? null)
      .filter((b): b is string => b !== null && !this.texts.has(b));
    if (oldBlobs.length > 0) for (const [id, t] of await this.source.readBlobs(oldBlobs)) this.texts.set(id, t);

    const problems = new Map<Draft, FileProblem[]>();
    for (const { draft, key, docs } of candidates) {
      const elsewhere =
        this.ws.claimsOf(key).some((p) => p !== draft.path && !changedPaths.has(p)) ||
        drafts.some((d) => d !== draft && d.parsed.keys.includes(key));
      if (elsewhere) continue;
      const oldBlob = draft.before?.blob ?? null;
      const was = oldBlob !== null ? (this.parseBlob(oldBlob, draft.path).otherKinds.get(key) ?? []) : undefined;
      const count = (list: readonly OtherKindDocument[], kind: string): number =>
        list.filter((o) => o.kind === kind).length;
      let doc: OtherKindDocument | undefined;
      if (was === undefined) {
        doc = docs[0]; // nothing to compare with (the path held a symlink, or nothing)
      } else {
        // A kind that gained a document of this name; none: the DaemonSet's document was deleted.
        doc = docs.find((o) => count(docs, o.kind) > count(was, o.kind));
        // Already held by its kind change here, and the document was not deleted (only edited).
        const held = this.ws.records.get(key)?.errors.some((e) => e.code === 'KindChanged' && e.file === draft.path);
        if (!doc && held && docs.length >= was.length) doc = docs[0];
      }
      if (!doc) continue;
      const list = problems.get(draft) ?? [];
      list.push({
        code: 'KindChanged',
        message:
          `kind: ${renderKind(doc.kind)}: DaemonSet ${key} is no longer a DaemonSet in this document; ` +
          `dsctl keeps running the DaemonSet. To remove it, delete the document`,
        file: draft.path,
        line: doc.line,
        column: doc.column,
        field: 'kind',
        key,
      });
      problems.set(draft, list);
    }
    for (const [draft, list] of problems) {
      const keyProblems = new Map(draft.parsed.keyProblems);
      for (const p of list) keyProblems.set(p.key!, [...(keyProblems.get(p.key!) ?? []), p]);
      const keys = [...draft.parsed.keys, ...list.map((p) => p.key!).filter((k) => !draft.parsed.keys.includes(k))];
      draft.parsed = { ...draft.parsed, keys, keyProblems };
    }
  }

  /** A commit that would delete every DaemonSet: record an error, apply nothing, retry its files next commit. */
  private refuseEmptying(c: CommitChanges, updates: readonly FileUpdate[], touched: ReadonlySet<string>): void {
    const where = this.options.path ? `path ${JSON.stringify(validatePath(this.options.path))}` : 'the repository';
    const error: ManifestError = {
      code: 'SourcePathEmpty',
      message: `commit ${c.commit.slice(0, 7)} leaves ${where} without any DaemonSet manifest; nothing was deleted`,
      commit: c.commit,
      file: SOURCE_LEVEL,
      line: 0,
      column: 0,
    };
    for (const u of updates) {
      if (u.before === null && u.blob === null && !u.notRegular) continue;
      this.ws.files.set(u.path, {
        blob: u.blob,
        keys: u.before?.keys ?? [],
        pending: true,
        ...(u.notRegular ? { notRegular: u.notRegular } : {}),
      });
      this.ws.pending.add(u.path);
    }
    this.ws.fileErrors.set(SOURCE_LEVEL, [error]);
    this.raised.push(error);
    for (const key of touched) {
      const record = this.ws.records.get(key);
      if (!record) continue;
      this.ws.records.set(key, { ...record, errors: mergeErrors(record.errors, [error], () => false) });
    }
  }

  private async applyKey(
    key: string,
    c: CommitChanges,
    mentioning: readonly FileUpdate[],
    processed: ReadonlyMap<string, FileUpdate>,
  ): Promise<void> {
    const record = this.ws.records.get(key) ?? null;
    const claims = this.ws.claimsOf(key);
    if (claims.length === 0) {
      if (!record || record.desired.orphaned) return;
      if (this.prune) this.ws.records.set(key, null);
      else this.ws.records.set(key, { ...record, desired: { ...record.desired, orphaned: true }, errors: [] });
      return;
    }

    const owner = claims[0]!;
    const fresh: ManifestError[] = [];
    for (const u of mentioning) {
      const own = u.parsed.keyProblems.get(key);
      if (own) fresh.push(...own.map((p) => toError(p, c.commit)));
      else if (u.dirty && u.keys.includes(key) && !u.parsed.docs.has(key)) {
        // Defined here before, neither valid nor named now: any of the file's problems may be its own.
        const all = [...u.parsed.fileProblems, ...[...u.parsed.keyProblems.values()].flat()];
        fresh.push(...all.map((p) => toError({ ...p, key }, c.commit)));
      }
    }
    if (claims.length > 1) {
      const others = claims.slice(1);
      const at = processed.get(others[0]!)?.parsed.docs.get(key)?.source;
      fresh.push({
        code: 'DuplicateDaemonSet',
        message: `DaemonSet ${key} is defined in ${owner} and ${others.join(', ')}; keeping the one in ${owner}`,
        commit: c.commit,
        file: others[0]!,
        line: at?.line ?? 0,
        column: at?.column ?? 0,
        key,
      });
    }

    let doc: ManifestDocument | undefined;
    const ownerUpdate = processed.get(owner);
    if (ownerUpdate) {
      doc = ownerUpdate.parsed.docs.get(key);
    } else if (!record || record.desired.file !== owner || record.desired.orphaned) {
      // Ownership moved to a file this commit did not change (its rival left): read it again.
      await this.ws.loadFiles([owner]);
      const blob = this.ws.files.get(owner)?.blob;
      if (blob) {
        if (!this.texts.has(blob)) for (const [id, t] of await this.source.readBlobs([blob])) this.texts.set(id, t);
        const parsed = this.parseBlob(blob, owner);
        doc = parsed.docs.get(key);
      }
    }

    const isRederived = (e: ManifestError): boolean =>
      processed.has(e.file) || e.code === 'DuplicateDaemonSet' || e.code === 'SourcePathEmpty';
    const errors = mergeErrors(record?.errors ?? [], fresh, isRederived);

    if (doc && record && !record.desired.orphaned && record.desired.file === owner) {
      // Unchanged document (the parse cache hands back the same object): no revision work.
      const same =
        doc.daemonSet === record.desired.daemonSet ||
        JSON.stringify(doc.daemonSet) === JSON.stringify(record.desired.daemonSet);
      if (same) {
        const { line, column, documentIndex } = doc.source;
        const d = record.desired;
        const moved = d.line !== line || d.column !== column || d.documentIndex !== documentIndex;
        const desired =
          moved || d.daemonSet !== doc.daemonSet ? { ...d, daemonSet: doc.daemonSet, line, column, documentIndex } : d;
        if (desired !== d || JSON.stringify(errors) !== JSON.stringify(record.errors)) {
          this.ws.records.set(key, { ...record, desired, errors });
        }
        return;
      }
    }
    if (doc) {
      const result = applyDaemonSet(
        record?.history,
        {
          daemonSet: doc.daemonSet,
          commit: { commit: c.commit, author: c.author, date: c.date, subject: c.subject },
          path: owner,
          ...(this.limit !== undefined ? { revisionHistoryLimit: this.limit } : {}),
          liveHashes: this.options.liveHashes?.(key),
        },
        { hash: this.options.hash },
      );
      const desired = {
        daemonSet: doc.daemonSet,
        file: owner,
        line: doc.source.line,
        column: doc.source.column,
        documentIndex: doc.source.documentIndex,
        commit: c.commit,
      };
      this.ws.records.set(key, { key, history: result.state, desired, errors });
    } else if (record) {
      this.ws.records.set(key, { ...record, errors });
    }
  }
}

/** Keeps old errors that still hold (not re-derived this commit), adds new ones, keeps the older of equal ones. */
function mergeErrors(
  old: readonly ManifestError[],
  fresh: readonly ManifestError[],
  isRederived: (e: ManifestError) => boolean,
): ManifestError[] {
  const same = (a: ManifestError, b: ManifestError): boolean =>
    a.code === b.code && a.file === b.file && a.message === b.message;
  const out = old.filter((e) => !isRederived(e));
  for (const e of fresh) {
    if (out.some((o) => same(o, e))) continue;
    out.push(old.find((o) => same(o, e)) ?? e);
  }
  return out;
}

function toError(p: FileProblem, commit: string): ManifestError {
  return { ...p, commit };
}

function addBlob(set: Set<string>, blob: string | null | undefined): void {
  if (blob) set.add(blob);
}

/** The change report: what differs between the records before and after the sync. */
function diffRecords(
  before: ReadonlyMap<string, DaemonSetRecord>,
  after: ReadonlyMap<string, DaemonSetRecord | null>,
): DaemonSetChange[] {
  const keys = new Set([...before.keys(), ...[...after.keys()]]);
  const out: DaemonSetChange[] = [];
  for (const key of [...keys].sort()) {
    const a = before.get(key);
    const b = after.has(key) ? (after.get(key) ?? undefined) : a;
    const kinds: DaemonSetChangeKind[] = [];
    if (!a && !b) continue;
    if (a && !b) kinds.push('deleted');
    else if (b) {
      const ra = currentRevision(a?.history);
      const rb = currentRevision(b.history);
      if (!a) kinds.push('created', 'revision');
      else {
        if (ra?.revision !== rb?.revision || ra?.hash !== rb?.hash) kinds.push('revision');
        if (a.history.specJson !== b.history.specJson) kinds.push('spec');
        else if (JSON.stringify(a.desired.daemonSet.metadata) !== JSON.stringify(b.desired.daemonSet.metadata)) {
          kinds.push('metadata');
        }
        if (!a.desired.orphaned && b.desired.orphaned) kinds.push('orphaned');
      }
      const errorsBefore = JSON.stringify(a?.errors ?? []);
      const errorsAfter = JSON.stringify(b.errors);
      if (errorsBefore !== errorsAfter) kinds.push(b.errors.length > 0 ? 'error' : 'recovered');
    }
    if (kinds.length === 0) continue;
    const [namespace = '', name = ''] = splitKey(key);
    const current = b ? currentRevision(b.history) : undefined;
    out.push({
      key,
      namespace,
      name,
      kinds,
      ...(current ? { revision: current.revision, hash: current.hash } : {}),
      ...(b ? { generation: b.history.generation } : {}),
      ...(b && b.errors.length > 0 ? { errors: b.errors } : {}),
    });
  }
  return out;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['default', key] : [key.slice(0, i), key.slice(i + 1)];
}
