/**
 * Reading a branch head straight from a repository's ref files (loose ref, then `packed-refs`, in
 * git's own order), so a poll needs no `git rev-parse`. Anything unusual (a symbolic ref, a
 * reftable repository, an unreadable file) answers `undefined` and the caller asks git instead.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The object id `refs/heads/<branch>` points to in `gitDir`, or `undefined` when unsure. */
export async function readBranchRef(gitDir: string, branch: string): Promise<string | undefined> {
  const name = `refs/heads/${branch}`;
  try {
    const text = await readFile(join(gitDir, name), 'utf8');
    return objectId(text.trimEnd());
  } catch (err) {
    // Not a loose ref (maybe packed); any other error: let git decide.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') return undefined;
  }
  let packed: string;
  try {
    packed = await readFile(join(gitDir, 'packed-refs'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of packed.split('\n')) {
    if (line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    if (space > 0 && line.slice(space + 1).trimEnd() === name) return objectId(line.slice(0, space));
  }
  return undefined;
}

function objectId(text: string): string | undefined {
  return OBJECT_ID.test(text) ? text : undefined;
}

/**
 * The git directory whose objects a `clone --shared` in `cloneDir` borrows (its only alternate,
 * `<gitdir>/objects`), when it keeps its refs in files; else `undefined`.
 */
export async function sharedSourceGitDir(cloneDir: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(cloneDir, 'objects', 'info', 'alternates'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length !== 1) return undefined;
  const line = lines[0]!.trim();
  const objects = isAbsolute(line) ? line : resolve(cloneDir, 'objects', line);
  if (!/[\\/]objects[\\/]?$/.test(objects)) return undefined;
  const gitDir = dirname(objects.replace(/[\\/]+$/, ''));
  try {
    // A reftable repository has a placeholder HEAD and no loose refs to read.
    const head = await readFile(join(gitDir, 'HEAD'), 'utf8');
    if (head.includes('refs/heads/.invalid')) return undefined;
  } catch {
    return undefined;
  }
  return gitDir;
}
