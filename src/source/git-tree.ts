/**
 * Git tree objects, read and compared in this process: pure functions on the raw bytes that
 * `git cat-file --batch` prints (`<mode> <name>\0<binary object id>` per entry, in git's order).
 *
 * Why: `git log --raw` reads both sides of every changed directory in full. With 10,000 manifests
 * in one directory, that is two 400 KB trees to inflate and walk for a one-file push. Here the
 * previous tree is kept ({@link TreeListing}), and a new one is compared with it by its bytes:
 * its common head and tail are skipped with native `Buffer.compare`, and only the entries in
 * between are parsed ({@link relistTree}).
 */
import type { FileChange, NotRegularFile } from './git-source.js';

/** A tree's raw bytes and the offset of each entry (`starts[n]` is the end). */
export interface TreeListing {
  readonly oid: string;
  readonly data: Buffer;
  /** Offsets of the `n` entries, then `data.length`. */
  readonly starts: Int32Array;
  /** 20 (SHA-1) or 32 (SHA-256). */
  readonly hashBytes: number;
}

/** One entry of a tree. */
export interface TreeEntry {
  /** The name's bytes, as git sorts them. */
  readonly nameBytes: Buffer;
  readonly name: string;
  readonly mode: string;
  readonly oid: string;
  readonly isTree: boolean;
}

/** Two sides of a name that differ between two trees (a side is absent where the name is). */
export interface EntryChange {
  readonly before?: TreeEntry;
  readonly after?: TreeEntry;
}

const SPACE = 0x20;
const NUL = 0;
const TREE_MODE = '40000';
const CHUNK = 4096;

/** Hash length in bytes of a repository whose object ids look like `oid`. */
export function hashBytesOf(oid: string): number {
  return oid.length === 64 ? 32 : 20;
}

/** The entry starting at `pos`: its end offset, or throws on bytes that are not a tree entry. */
function entryEnd(data: Buffer, pos: number, hashBytes: number): number {
  const space = data.indexOf(SPACE, pos);
  if (space <= pos || space - pos > 6) throw new Error(`malformed git tree: no mode at byte ${pos}`);
  const nul = data.indexOf(NUL, space + 1);
  if (nul <= space + 1) throw new Error(`malformed git tree: no name at byte ${pos}`);
  const end = nul + 1 + hashBytes;
  if (end > data.length) throw new Error(`malformed git tree: entry at byte ${pos} is cut short`);
  return end;
}

/** Every entry offset of `data`, from `from` (an entry start) to the end. */
function scanStarts(data: Buffer, from: number, hashBytes: number, out: number[]): void {
  let pos = from;
  while (pos < data.length) {
    out.push(pos);
    pos = entryEnd(data, pos, hashBytes);
  }
}

/** Parses a whole tree. */
export function parseTree(oid: string, data: Buffer): TreeListing {
  const hashBytes = hashBytesOf(oid);
  const starts: number[] = [];
  scanStarts(data, 0, hashBytes, starts);
  starts.push(data.length);
  return { oid, data, starts: Int32Array.from(starts), hashBytes };
}

export function entryCount(tree: TreeListing): number {
  return tree.starts.length - 1;
}

/** The `i`th entry of a tree. */
export function entryAt(tree: TreeListing, i: number): TreeEntry {
  const { data, starts, hashBytes } = tree;
  const pos = starts[i]!;
  const space = data.indexOf(SPACE, pos);
  const nul = data.indexOf(NUL, space + 1);
  const mode = canonicalMode(data.toString('latin1', pos, space));
  const nameBytes = data.subarray(space + 1, nul);
  return {
    nameBytes,
    name: nameBytes.toString('utf8'),
    mode,
    oid: data.toString('hex', nul + 1, nul + 1 + hashBytes),
    isTree: mode === TREE_MODE,
  };
}

/** Length of the common prefix of `a` and `b`, in bytes. */
function commonPrefix(a: Buffer, b: Buffer): number {
  const max = Math.min(a.length, b.length);
  let at = 0;
  while (at + CHUNK <= max && a.compare(b, at, at + CHUNK, at, at + CHUNK) === 0) at += CHUNK;
  while (at < max && a[at] === b[at]) at++;
  return at;
}

/** Length of the common suffix of `a` and `b`, at most `max` bytes. */
function commonSuffix(a: Buffer, b: Buffer, max: number): number {
  let n = 0;
  while (n + CHUNK <= max && a.compare(b, b.length - n - CHUNK, b.length - n, a.length - n - CHUNK, a.length - n) === 0)
    n += CHUNK;
  while (n < max && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/** Index of the entry of `starts` (ascending, last = end) that contains byte `at`. */
function entryContaining(starts: Int32Array, at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Index of `value` in ascending `starts` at or after `from`, or -1. */
function indexOfStart(starts: Int32Array, value: number, from: number): number {
  let lo = from;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = starts[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Lists tree `oid` (its bytes `data`) from `base`, a listing of a tree it was likely made from,
 * and names the entries that differ. Bytes shared with `base` at the head and tail are entries
 * shared with it: only the entries in between are parsed, so a one-entry change to a large tree
 * costs two `memcmp`s of it, not a parse. The result is the same as {@link parseTree} and a full
 * comparison would give, whatever `base` is.
 */
export function relistTree(
  base: TreeListing,
  oid: string,
  data: Buffer,
): { readonly listing: TreeListing; readonly changes: EntryChange[] } {
  // One repository, one object format: `base` has the same id length.
  const hashBytes = hashBytesOf(oid);
  const old = base.data;
  const oldStarts = base.starts;
  const oldCount = oldStarts.length - 1;
  // Entries ending inside the common head are the same in both, at the same offsets.
  const first = entryContaining(oldStarts, commonPrefix(old, data));
  const headEnd = oldStarts[first]!;
  const shift = data.length - old.length;
  const tail = commonSuffix(old, data, Math.min(old.length, data.length) - headEnd);
  const tailStartOld = old.length - tail;
  // Parse the new entries from the first differing one until an entry starts where an old one
  // does within the common tail: from there on both hold the same bytes, cut the same way.
  const middle: number[] = [];
  let pos = headEnd;
  let resume = oldCount;
  while (pos < data.length) {
    if (pos - shift >= tailStartOld) {
      const at = indexOfStart(oldStarts, pos - shift, first);
      if (at >= 0) {
        resume = at;
        break;
      }
    }
    middle.push(pos);
    pos = entryEnd(data, pos, hashBytes);
  }
  const starts = new Int32Array(first + middle.length + (oldCount - resume) + 1);
  starts.set(oldStarts.subarray(0, first), 0);
  starts.set(middle, first);
  for (let i = resume, j = first + middle.length; i <= oldCount; i++, j++) starts[j] = oldStarts[i]! + shift;
  const listing: TreeListing = { oid, data, starts, hashBytes };
  return { listing, changes: compareEntries(base, first, resume, listing, first, first + middle.length) };
}

/**
 * The names whose entries differ between `before[bFrom, bTo)` and `after[aFrom, aTo)`, merged in
 * git's tree order (a directory sorts as its name followed by `/`), as `git diff-tree` pairs them.
 */
export function compareEntries(
  before: TreeListing,
  bFrom: number,
  bTo: number,
  after: TreeListing,
  aFrom: number,
  aTo: number,
): EntryChange[] {
  const changes: EntryChange[] = [];
  let i = bFrom;
  let j = aFrom;
  let b = i < bTo ? entryAt(before, i) : undefined;
  let a = j < aTo ? entryAt(after, j) : undefined;
  while (b || a) {
    const order = !b ? 1 : !a ? -1 : compareNames(b, a);
    if (order < 0) {
      changes.push({ before: b });
      b = ++i < bTo ? entryAt(before, i) : undefined;
    } else if (order > 0) {
      changes.push({ after: a });
      a = ++j < aTo ? entryAt(after, j) : undefined;
    } else {
      if (b!.oid !== a!.oid || b!.mode !== a!.mode) changes.push({ before: b, after: a });
      b = ++i < bTo ? entryAt(before, i) : undefined;
      a = ++j < aTo ? entryAt(after, j) : undefined;
    }
  }
  return changes;
}

/** git's `base_name_compare`: names byte by byte, a directory's name as if followed by `/`. */
export function compareNames(x: TreeEntry, y: TreeEntry): number {
  const len = Math.min(x.nameBytes.length, y.nameBytes.length);
  const common = x.nameBytes.compare(y.nameBytes, 0, len, 0, len);
  if (common !== 0) return common;
  const cx = x.nameBytes.length > len ? x.nameBytes[len]! : x.isTree ? 0x2f : 0;
  const cy = y.nameBytes.length > len ? y.nameBytes[len]! : y.isTree ? 0x2f : 0;
  return cx - cy;
}

const REGULAR_FILE = /^100(644|755)$/;
/** Modes of entries that are not files: never read, reported by the sync (`FileChange.notRegular`). */
const NOT_REGULAR: ReadonlyMap<string, NotRegularFile> = new Map([
  ['120000', 'symbolic link'],
  ['160000', 'submodule'],
]);
const ZERO_ID = /^0+$/;

/**
 * A {@link FileChange} from git's raw fields (as `git log --raw` prints them, and as a tree
 * comparison finds them). `undefined` for statuses other than A, M, D and T.
 */
export function fileChange(path: string, status: string, newMode: string, newBlob: string): FileChange | undefined {
  if (status !== 'A' && status !== 'M' && status !== 'D' && status !== 'T') return undefined;
  const present = status !== 'D' && REGULAR_FILE.test(newMode) && !ZERO_ID.test(newBlob);
  const notRegular = status === 'D' ? undefined : NOT_REGULAR.get(newMode);
  return { path, status, blob: present ? newBlob : null, ...(notRegular ? { notRegular } : {}) };
}

/** git's raw status of a non-tree name present on both sides: `T` when the kind of entry changed. */
export function modifiedStatus(beforeMode: string, afterMode: string): 'M' | 'T' {
  const kind = (mode: string) => (mode === '100755' ? '100644' : mode);
  return kind(beforeMode) === kind(afterMode) ? 'M' : 'T';
}

/**
 * A mode as git reads it from a tree (`canon_mode`): old trees may hold `100664` or `100775`,
 * which git compares and prints as `100644` and `100755`.
 */
export function canonicalMode(raw: string): string {
  const mode = parseInt(raw, 8);
  switch (mode & 0o170000) {
    case 0o100000:
      return mode & 0o100 ? '100755' : '100644';
    case 0o120000:
      return '120000';
    case 0o040000:
      return TREE_MODE;
    default:
      return '160000';
  }
}
