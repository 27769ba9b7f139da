/**
 * The files a commit changed under a directory, found by comparing its trees in this process
 * (git-tree.ts) through the long-lived `git cat-file --batch`, with the trees last seen kept.
 *
 * A push's sync compares the pushed commit's directory tree with the one of the commit before,
 * which the previous sync read and kept: git inflates one tree, not two, and no `git log --raw`
 * walks 10,000 entries twice. The result is what `git log --raw --no-renames --relative=<dir>/`
 * prints for the commit against its first parent (the integration tests compare the two).
 */
import type { BatchObject } from './git-process.js';
import type { FileChange } from './git-source.js';
import {
  entryAt,
  entryCount,
  fileChange,
  hashBytesOf,
  modifiedStatus,
  parseTree,
  relistTree,
  type EntryChange,
  type TreeListing,
} from './git-tree.js';

/** Reads objects by name (`<oid>`, `<commit>:<path>`, `<commit>^{tree}`); `undefined` when missing. */
export interface ObjectReader {
  get(names: readonly string[]): Promise<(BatchObject | undefined)[]>;
}

export interface TreeDifferOptions {
  /** Bytes of trees kept, over all of them (the last sync's are what the next one needs). @defaultValue 16 MiB */
  readonly maxBytes?: number;
  /** Trees kept. @defaultValue 32 */
  readonly maxTrees?: number;
}

/** Tree ids of a commit's directory kept (`null`: the directory is not there). */
const MAX_DIRS = 256;

export class TreeDiffer {
  /** Least recently used first. */
  private readonly trees = new Map<string, TreeListing>();
  private bytes = 0;
  /** `<commit>:<dir>` → the directory's tree id, `null` where it does not exist. */
  private readonly dirs = new Map<string, Promise<string | null>>();
  private readonly maxBytes: number;
  private readonly maxTrees: number;

  constructor(
    private readonly objects: ObjectReader,
    options: TreeDifferOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 16 << 20;
    this.maxTrees = options.maxTrees ?? 32;
  }

  /** Starts reading the trees of `dir` at `commits` (a later {@link changesAlong} finds them read). */
  prefetch(commits: readonly string[], dir: string): void {
    this.dirTrees(commits, dir).catch(() => undefined);
  }

  /**
   * For each commit after the first, the files it changed under `dir` (paths relative to `dir`)
   * against the commit before it in `commits`, in git's order.
   */
  async changesAlong(commits: readonly string[], dir: string): Promise<FileChange[][]> {
    const trees = await this.dirTrees(commits, dir);
    const out: FileChange[][] = [];
    for (let i = 1; i < trees.length; i++) {
      const files: FileChange[] = [];
      if (trees[i - 1] !== trees[i]) await this.compare(trees[i - 1]!, trees[i]!, '', files);
      out.push(files);
    }
    return out;
  }

  /**
   * The tree id of `dir` at each commit, read in one request for those not known yet. With each
   * directory its commit's root tree is asked for: when that is missing, so is the commit (an
   * error); when only the directory is, it does not exist at that commit.
   */
  private async dirTrees(commits: readonly string[], dir: string): Promise<(string | null)[]> {
    const missing = [...new Set(commits.filter((c) => !this.dirs.has(dirKey(c, dir))))];
    if (missing.length > 0) {
      const read = this.objects.get(
        missing.flatMap((c) => (dir === '' ? [`${c}^{tree}`] : [`${c}^{tree}`, `${c}:${dir}`])),
      );
      const step = dir === '' ? 1 : 2;
      missing.forEach((c, i) => {
        const key = dirKey(c, dir);
        const oid = read.then((objects) => {
          if (objects[i * step]?.type !== 'tree') throw new Error(`git commit ${c} is missing`);
          return this.keep(objects[i * step + step - 1]);
        });
        this.dirs.set(key, oid);
        oid.catch(() => this.dirs.delete(key));
      });
      while (this.dirs.size > MAX_DIRS) this.dirs.delete(this.dirs.keys().next().value!);
    }
    return Promise.all(commits.map((c) => this.dirs.get(dirKey(c, dir))!));
  }

  /** Keeps a tree read by name; `null` for anything else (the directory is not there). */
  private keep(object: BatchObject | undefined): string | null {
    if (object?.type !== 'tree') return null;
    if (!this.trees.has(object.oid)) this.remember(parseLazily(object.oid, object.data));
    return object.oid;
  }

  /** Appends the files that differ between trees `before` and `after` (`null`: empty) under `prefix`. */
  private async compare(before: string | null, after: string | null, prefix: string, out: FileChange[]): Promise<void> {
    const [b, a] = await this.listings([before, after]);
    let changes: EntryChange[];
    if (!b || !a) {
      changes = [];
      const side = (b ?? a)!;
      for (let i = 0; i < entryCount(side); i++)
        changes.push(b ? { before: entryAt(side, i) } : { after: entryAt(side, i) });
    } else {
      const relisted = relistTree(b, a.oid, a.data);
      this.remember(relisted.listing);
      changes = relisted.changes;
    }
    for (const change of changes) await this.emit(change, prefix, out);
  }

  private async emit({ before, after }: EntryChange, prefix: string, out: FileChange[]): Promise<void> {
    const path = `${prefix}${(after ?? before)!.name}`;
    if (before?.isTree || after?.isTree) {
      await this.compare(before?.oid ?? null, after?.oid ?? null, `${path}/`, out);
      return;
    }
    const status = !before ? 'A' : !after ? 'D' : modifiedStatus(before.mode, after.mode);
    const change = fileChange(path, status, after?.mode ?? '000000', after?.oid ?? '');
    if (change) out.push(change);
  }

  /** Listings of the given trees (`null` stays `null`), reading the ones not kept in one request. */
  private async listings(oids: readonly (string | null)[]): Promise<(TreeListing | null)[]> {
    const found = new Map<string, TreeListing>();
    for (const oid of oids) {
      const kept = oid === null ? undefined : this.trees.get(oid);
      if (!kept) continue;
      found.set(oid!, kept);
      this.trees.delete(oid!);
      this.trees.set(oid!, kept);
    }
    const missing = [...new Set(oids.filter((o): o is string => o !== null && !found.has(o)))];
    if (missing.length > 0) {
      const objects = await this.objects.get(missing);
      missing.forEach((oid, i) => {
        const object = objects[i];
        if (object?.type !== 'tree') throw new Error(`git tree ${oid} is missing`);
        const listing = parseLazily(oid, object.data);
        found.set(oid, listing);
        this.remember(listing);
      });
    }
    return oids.map((oid) => (oid === null ? null : found.get(oid)!));
  }

  private remember(listing: TreeListing): void {
    const old = this.trees.get(listing.oid);
    if (old) {
      this.bytes -= old.data.length;
      this.trees.delete(listing.oid);
    }
    this.trees.set(listing.oid, listing);
    this.bytes += listing.data.length;
    while (this.trees.size > 1 && (this.bytes > this.maxBytes || this.trees.size > this.maxTrees)) {
      const [oid, evicted] = this.trees.entries().next().value!;
      this.trees.delete(oid);
      this.bytes -= evicted.data.length;
    }
  }
}

function dirKey(commit: string, dir: string): string {
  return `${commit}:${dir}`;
}

/**
 * A listing whose entry offsets are worked out on first use: a tree that is only ever compared
 * with ({@link relistTree} as the new side) never needs its own parse.
 */
function parseLazily(oid: string, data: Buffer): TreeListing {
  let parsed: TreeListing | undefined;
  return {
    oid,
    data,
    get starts() {
      parsed ??= parseTree(oid, data);
      return parsed.starts;
    },
    hashBytes: hashBytesOf(oid),
  };
}
