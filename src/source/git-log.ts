/**
 * Parsing of `git log --raw -z` output and of `git cat-file --batch` output. Pure functions, so
 * the tricky byte-level parsing is unit-testable without git.
 */
import type { CommitChanges, FileChange } from './git-source.js';
import { fileChange } from './git-tree.js';

/** Start of each commit record; the header fields are separated by {@link FIELD_SEP}. */
export const RECORD_SEP = '\x1e';
export const FIELD_SEP = '\x1f';
/** `--format` for {@link parseLogOutput}: sha, parents, author, email, author date, subject (last). */
export const LOG_FORMAT = `${RECORD_SEP}%H${FIELD_SEP}%P${FIELD_SEP}%an${FIELD_SEP}%ae${FIELD_SEP}%aI${FIELD_SEP}%s`;

/**
 * Parses the output of `git log --format=LOG_FORMAT --raw --no-abbrev --no-renames -z`.
 * With `-z`, tokens are NUL-separated: a header token, then pairs of raw entry
 * (`:oldmode newmode oldblob newblob status`) and path. Symlinks and submodules have no blob (they
 * are never read) and are flagged `notRegular`.
 */
export function parseLogOutput(output: string): CommitChanges[] {
  const tokens = output.split('\0');
  const commits: CommitChanges[] = [];
  let current: { header: Omit<CommitChanges, 'files'>; files: FileChange[] } | undefined;
  const flush = (): void => {
    if (current) commits.push({ ...current.header, files: current.files });
    current = undefined;
  };
  for (let i = 0; i < tokens.length; i++) {
    const raw = tokens[i] ?? '';
    const token = raw.replace(/^\n+/, '');
    if (token === '') continue;
    if (token.startsWith(RECORD_SEP)) {
      flush();
      const fields = token.slice(1).split(FIELD_SEP);
      const [commit = '', parents = '', author = '', authorEmail = '', date = '', ...subject] = fields;
      if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new Error(`unexpected git log record: ${token.slice(0, 80)}`);
      current = {
        header: {
          commit,
          parents: parents.split(' ').filter(Boolean),
          author,
          authorEmail,
          date,
          subject: subject.join(FIELD_SEP),
        },
        files: [],
      };
      continue;
    }
    if (token.startsWith(':') && current) {
      const path = tokens[++i] ?? '';
      const [, newMode = '', , newBlob = '', status = ''] = token.slice(1).split(' ');
      const change = fileChange(path, status.charAt(0), newMode, newBlob);
      if (change) current.files.push(change);
      continue;
    }
    throw new Error(`unexpected git log token: ${token.slice(0, 80)}`);
  }
  flush();
  return commits;
}

/**
 * Splits `git cat-file --batch` output (`<id> blob <size>\n<bytes>\n` per object, `<id> missing\n`
 * for unknown ids) into id → UTF-8 text. Sizes are byte counts, so this works on the raw buffer.
 */
export function parseCatFileBatch(output: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < output.length) {
    const nl = output.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = output.toString('utf8', pos, nl);
    pos = nl + 1;
    const parts = header.split(' ');
    if (parts[1] === 'missing' || parts.length < 3) continue;
    const size = Number(parts[2]);
    if (!Number.isInteger(size) || size < 0 || pos + size > output.length) {
      throw new Error(`malformed git cat-file output near: ${header.slice(0, 80)}`);
    }
    out.set(parts[0] ?? '', output.toString('utf8', pos, pos + size));
    pos += size + 1;
  }
  return out;
}

/**
 * Whether `cursor` is on the first-parent chain of `head`, read from an unfiltered
 * `log --first-parent --reverse cursor..head` (the walk stops at the first commit reachable from
 * the cursor, so the chain continues from the cursor exactly when the oldest listed commit's first
 * parent is the cursor; an empty walk means `head` is behind the cursor). `undefined` when the
 * output is not such a chain (the caller falls back to asking git).
 */
export function firstParentVerdict(
  chain: readonly Pick<CommitChanges, 'commit' | 'parents'>[],
  cursor: string,
  head: string,
): 'descendant' | 'diverged' | undefined {
  if (chain.length === 0) return cursor === head ? 'descendant' : 'diverged';
  if (chain[chain.length - 1]!.commit !== head) return undefined;
  for (let i = 1; i < chain.length; i++) if (chain[i]!.parents[0] !== chain[i - 1]!.commit) return undefined;
  return chain[0]!.parents[0] === cursor ? 'descendant' : 'diverged';
}
