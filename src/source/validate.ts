/**
 * Validation of user-supplied Git input before it reaches a git command line. simple-git blocks
 * the known dangerous options, but upstream's own guidance is to validate refs, paths and URLs
 * anyway (ecosystem.md §3.4), so nothing here may start with `-` or carry pathspec magic.
 */
import { isAbsolute, resolve } from 'node:path';
import { InvalidSourceInputError } from './errors.js';
import { redactUrl } from './redact.js';

const BRANCH = /^[A-Za-z0-9._/-]+$/;
/** The characters a validated path may hold (also what may follow `:` in a cat-file object name). */
export const PATH_CHARACTERS = '[A-Za-z0-9._/@+ =,-]';
const PATH = new RegExp(`^${PATH_CHARACTERS}+$`);
const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const URL_SCHEME = /^(https?|ssh|git|file):\/\//i;
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

/** A branch name safe for `refs/heads/<branch>` (git check-ref-format rules, minus exotic characters). */
export function validateBranch(branch: string): string {
  const fail = (why: string): never => {
    throw new InvalidSourceInputError('branch', `invalid branch ${JSON.stringify(branch)}: ${why}`);
  };
  if (branch.length === 0 || branch.length > 200) fail('must be 1 to 200 characters');
  if (branch.startsWith('-')) fail('must not start with "-"');
  if (!BRANCH.test(branch)) fail('allowed characters are letters, digits, ".", "_", "/" and "-"');
  if (branch.startsWith('/') || branch.endsWith('/') || branch.includes('//')) fail('empty path component');
  if (branch.includes('..') || branch.endsWith('.') || branch.endsWith('.lock')) fail('not a valid ref name');
  if (branch.split('/').some((part) => part.startsWith('.'))) fail('a component must not start with "."');
  if (branch === 'HEAD') fail('"HEAD" is not a branch');
  return branch;
}

/**
 * A repository-relative directory or file, normalised: no leading `./` or `/`, no trailing `/`,
 * `''` for the repository root. Rejects `..`, leading `-` and glob/pathspec characters.
 */
export function validatePath(path: string): string {
  const fail = (why: string): never => {
    throw new InvalidSourceInputError('path', `invalid path ${JSON.stringify(path)}: ${why}`);
  };
  const trimmed = path.trim();
  if (trimmed === '' || trimmed === '.' || trimmed === './' || trimmed === '/') return '';
  if (trimmed.length > 1024) fail('too long');
  if (!PATH.test(trimmed)) fail('allowed characters are letters, digits, space and . _ / @ + = , -');
  const parts = trimmed.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) fail('must stay inside the repository');
  if (parts.some((p) => p.startsWith('-'))) fail('a component must not start with "-"');
  return parts.join('/');
}

/** A full commit id (SHA-1 or SHA-256 hex), as read back from Redis or git. */
export function validateCommit(commit: string): string {
  if (!COMMIT.test(commit)) throw new InvalidSourceInputError('commit', `invalid commit id ${JSON.stringify(commit)}`);
  return commit;
}

/**
 * A clone URL (`https://`, `http://`, `ssh://`, `git://`, `file://`, scp-like `user@host:path`) or a
 * local path (made absolute against `cwd`). Transport helpers such as `ext::` are refused.
 */
export function validateRepoUrl(url: string, cwd = process.cwd()): string {
  const fail = (why: string): never => {
    throw new InvalidSourceInputError('url', `invalid repository ${JSON.stringify(redactUrl(url))}: ${why}`);
  };
  if (url.length === 0) fail('empty');
  if (url.startsWith('-')) fail('must not start with "-"');
  if (/[\0\n\r]/.test(url)) fail('control characters');
  if (URL_SCHEME.test(url)) {
    try {
      new URL(url);
    } catch {
      fail('not a valid URL');
    }
    return url;
  }
  if (url.includes('::') || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) fail('unsupported transport');
  if (SCP_LIKE.test(url)) return url;
  return isAbsolute(url) ? url : resolve(cwd, url);
}
