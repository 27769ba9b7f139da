/**
 * {@link GitSource} on git: a bare clone in a data directory, fetched on every poll and read with
 * plumbing commands only (`log --raw -z`, `cat-file --batch`), so reads take no index lock and cost
 * one process each, whatever the number of files or commits.
 *
 * Latency of an incremental sync (a push webhook waits for it): simple-git runs only the commands
 * that touch the network or create the clone (`clone`, `init`, `fetch`, `ls-remote`); the hot reads
 * run git directly (git-process.ts). One `git log` walk of `cursor..head` both checks the cursor and
 * lists the new commits ({@link SimpleGitSource.changesSince}). Their changes are found by comparing
 * their trees with the ones kept from the last sync (tree-differ.ts). Trees and blobs are read, and
 * the fetched head peeled, by one long-lived `git cat-file --batch` per source
 * ({@link SimpleGitSource.close} stops it); the head is read from the ref files instead of
 * `git rev-parse`. A repository on this machine is cloned with `--shared`, so its new commits are
 * already readable from the clone: after the first fetch of the process its branch ref is read
 * straight from its files (`git fetch` only when that is not possible). Incremental sync of one new
 * commit: one git process for a local repository, two (`fetch`, `log`) for a remote one.
 *
 * Safety (ecosystem.md §3): the URL, branch and path are validated; path arguments come after
 * `--`; the child environment is an explicit allow-list (never a spread of `process.env`) with
 * `GIT_TERMINAL_PROMPT=0` so a missing credential fails instead of hanging; every command has a
 * stall timeout; credentials never appear in errors.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleGit, type SimpleGit, type SimpleGitOptions } from 'simple-git';
import { GitSourceError } from './errors.js';
import { firstParentVerdict, LOG_FORMAT, parseCatFileBatch, parseLogOutput } from './git-log.js';
import { CatFileBatch, runGit, startGit, type GitRunOptions, type StartedGit } from './git-process.js';
import { readBranchRef, sharedSourceGitDir } from './git-refs.js';
import type { ChangesSince, CommitChanges, CursorCheck, FileChange, GitSource } from './git-source.js';
import { redactUrl, sanitizeMessage, urlSecrets } from './redact.js';
import { TreeDiffer } from './tree-differ.js';
import { validateBranch, validateCommit, validatePath, validateRepoUrl } from './validate.js';

export interface SimpleGitSourceOptions {
  /** Clone URL (`https://`, `ssh://`, scp-like, `file://`) or local path. */
  readonly url: string;
  readonly branch: string;
  /** Directory of the bare clone; see {@link repoCacheDir}. Created on first fetch. */
  readonly dir: string;
  /** Stall timeout for `fetch`/`ls-remote` (no output for this long kills git). @defaultValue 60000 */
  readonly networkTimeoutMs?: number;
  /** Stall timeout for local reads. @defaultValue 300000 */
  readonly readTimeoutMs?: number;
  /** HTTPS token sent as a Basic `http.extraHeader` (never written to disk or to the URL). */
  readonly token?: string;
  /** `GIT_SSH_COMMAND`, e.g. `ssh -i /secrets/key -o IdentitiesOnly=yes`. */
  readonly sshCommand?: string;
}

/** Non-git variables the child may see; everything else (and every ambient `GIT_*`) is dropped. */
const PASSED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'TMPDIR',
  'SSH_AUTH_SOCK',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SYSTEMROOT',
];

/** Config for every command: output stable for parsing regardless of the user's git config. */
const READ_CONFIG = ['log.showSignature=false', 'color.ui=false', 'core.quotePath=false', 'diff.renames=false'];

/** `<dataDir>/repos/<sha256 of the URL>`: one clone per repository, shared by restarts. */
export function repoCacheDir(dataDir: string, url: string): string {
  return join(dataDir, 'repos', createHash('sha256').update(url).digest('hex'));
}

export class SimpleGitSource implements GitSource {
  readonly displayUrl: string;
  readonly branch: string;
  readonly dir: string;
  private readonly url: string;
  private readonly secrets: string[];
  private readonly networkTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly token?: string;
  private readonly sshCommand?: string;
  private initialized = false;
  /** A local repository cloned with `--shared`: its git dir, whose branch ref later fetches read. */
  private sharedGitDir?: string;
  /** Serialises writers (init, fetch) on this clone. */
  private writeLock: Promise<unknown> = Promise.resolve();
  /** The long-lived object reader (blobs, peeling the head). */
  private readonly batch: CatFileBatch;
  /** A `git log --stdin` of a chain, started ahead for the next {@link changesSince} (see startGit). */
  private primedLog?: StartedGit;
  /** Compares the trees of new commits with the ones kept from the last sync. */
  private readonly trees: TreeDiffer;
  private primeTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(options: SimpleGitSourceOptions) {
    this.url = validateRepoUrl(options.url);
    this.branch = validateBranch(options.branch);
    this.dir = options.dir;
    this.displayUrl = redactUrl(this.url);
    this.networkTimeoutMs = options.networkTimeoutMs ?? 60_000;
    this.readTimeoutMs = options.readTimeoutMs ?? 300_000;
    this.token = options.token;
    this.sshCommand = options.sshCommand;
    this.secrets = [...urlSecrets(this.url)];
    if (this.token) this.secrets.push(this.token, basicAuth(this.token));
    this.batch = new CatFileBatch(this.readOptions());
    this.trees = new TreeDiffer(this.batch);
  }

  /** Stops the long-lived `git cat-file --batch` process (call on shutdown; the source stays usable). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.primeTimer);
    this.primedLog?.kill();
    this.primedLog = undefined;
    await this.batch.close();
  }

  async fetch(): Promise<string> {
    const run = this.writeLock.then(() => this.fetchNow());
    this.writeLock = run.catch(() => undefined);
    return run;
  }

  async checkCursor(cursor: string, head: string): Promise<CursorCheck> {
    validateCommit(cursor);
    validateCommit(head);
    if (cursor === head) return 'descendant';
    let out: string;
    try {
      out = await this.read(['rev-list', '--first-parent', '--reverse', '--parents', `${cursor}..${head}`]);
    } catch (err) {
      if (!(await this.commitExists(cursor))) return 'unknown';
      throw this.wrap('rev-list', err);
    }
    const first = out.split('\n', 1)[0]?.trim() ?? '';
    if (first === '') return 'diverged';
    return first.split(' ')[1] === cursor ? 'descendant' : 'diverged';
  }

  async listChanges(from: string | null, to: string, path: string): Promise<CommitChanges[]> {
    validateCommit(to);
    if (from !== null) validateCommit(from);
    const pathspec = validatePath(path);
    const range = from === null ? to : `${from}..${to}`;
    // A directory is selected with `--relative=<dir>/` rather than a pathspec: git then diffs only
    // that subtree, several times faster than matching a pathspec against every entry of a large
    // directory. Commits that do not touch it come back without files and are dropped here.
    const asDirectory = pathspec !== '' && !isFilePath(pathspec);
    const args = logArgs(asDirectory ? pathspec : '', range, pathspec !== '' && !asDirectory ? [pathspec] : []);
    let commits: CommitChanges[];
    try {
      commits = parseLogOutput(await this.read(args));
    } catch (err) {
      throw this.wrap('log', err);
    }
    // The next sync walks from here with changesSince: have its git log ready and the tree it
    // compares with read (the first push after a start would otherwise pay for both).
    this.primeWhenIdle({ commit: to, dir: walkDirectory(pathspec) });
    if (!asDirectory) return commits;
    return commits
      .filter((c) => c.files.length > 0)
      .map((c) => ({ ...c, files: c.files.map((f) => ({ ...f, path: `${pathspec}/${f.path}` })) }));
  }

  /**
   * One `git log` of `cursor..head` (so the whole first-parent chain comes back, see
   * {@link firstParentVerdict}), without `--raw`: the changes under `path` come from comparing
   * trees in this process ({@link TreeDiffer}), whose reads start while git walks. Output that is
   * not a plain chain ending at `head` falls back to {@link checkCursor} and {@link listChanges},
   * as does a chain of more than {@link TREE_DIFF_MAX_COMMITS} commits (a burst of pushes, or a
   * worker that was down: whole trees for each would all come through the pipe, where `git log
   * --raw` reads them inside one process).
   */
  async changesSince(cursor: string, head: string, path: string): Promise<ChangesSince> {
    validateCommit(cursor);
    validateCommit(head);
    const pathspec = validatePath(path);
    if (cursor === head) return { check: 'descendant', commits: [] };
    // A file is selected from its directory's changes (a pathspec would hide commits of the chain).
    const file = pathspec !== '' && isFilePath(pathspec);
    const relative = walkDirectory(pathspec);
    const name = file ? pathspec.slice(pathspec.lastIndexOf('/') + 1) : '';
    this.trees.prefetch([cursor, head], relative);
    let chain: CommitChanges[];
    try {
      chain = parseLogOutput((await this.logSince(`${cursor}..${head}`)).toString('utf8'));
    } catch (err) {
      if (!(await this.commitExists(cursor))) return { check: 'unknown', commits: [] };
      throw this.wrap('log', err);
    }
    const verdict = firstParentVerdict(chain, cursor, head);
    if (verdict === undefined) {
      const check = await this.checkCursor(cursor, head);
      return { check, commits: check === 'descendant' ? await this.listChanges(cursor, head, pathspec) : [] };
    }
    if (verdict === 'diverged') return { check: 'diverged', commits: [] };
    if (chain.length > TREE_DIFF_MAX_COMMITS) {
      return { check: 'descendant', commits: await this.listChanges(cursor, head, pathspec) };
    }
    let changes: FileChange[][];
    try {
      changes = await this.trees.changesAlong([cursor, ...chain.map((c) => c.commit)], relative);
    } catch {
      // The object reader failed (the next request starts a new one): git compares instead.
      return { check: 'descendant', commits: await this.listChanges(cursor, head, pathspec) };
    }
    const commits: CommitChanges[] = [];
    chain.forEach((c, i) => {
      const all = changes[i]!;
      const files = file ? all.filter((f) => f.path === name || f.path.startsWith(`${name}/`)) : all;
      // The whole repository: every commit of the chain, as listChanges gives it.
      if (files.length === 0 && pathspec !== '') return;
      commits.push({
        ...c,
        files: relative === '' ? files : files.map((f) => ({ ...f, path: `${relative}/${f.path}` })),
      });
    });
    return { check: 'descendant', commits };
  }

  async readBlobs(blobs: readonly string[]): Promise<Map<string, string>> {
    const ids = [...new Set(blobs)];
    if (ids.length === 0) return new Map();
    for (const id of ids) validateCommit(id);
    const out = new Map<string, string>();
    let missing = ids;
    try {
      const found = await this.batch.get(ids);
      missing = ids.filter((id, i) => {
        const object = found[i];
        if (object) out.set(id, object.data.toString('utf8'));
        return !object;
      });
    } catch {
      // The long-lived reader failed (the next call starts a new one): a one-off process below.
    }
    if (missing.length === 0) return out;
    // Also for ids it reported missing: a fresh process sees the object store as it is now.
    try {
      const fresh = parseCatFileBatch(await this.readRaw(['cat-file', '--batch'], `${missing.join('\n')}\n`));
      for (const [id, text] of fresh) out.set(id, text);
    } catch (err) {
      throw this.wrap('cat-file', err);
    }
    return out;
  }

  /** The remote's default branch (`HEAD` symref), for a CLI given no `--branch`. */
  static async defaultBranch(url: string, options: { timeoutMs?: number } = {}): Promise<string | undefined> {
    const safeUrl = validateRepoUrl(url);
    const git = simpleGit({
      timeout: { block: options.timeoutMs ?? 60_000 },
      allowEnvironment: ['GIT_TERMINAL_PROMPT'],
    });
    git.env(childEnv());
    try {
      const out = await git.raw(['ls-remote', '--symref', '--', safeUrl, 'HEAD']);
      const m = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(out);
      return m?.[1];
    } catch (err) {
      throw new GitSourceError(
        `git ls-remote ${redactUrl(safeUrl)}`,
        sanitizeMessage(errorText(err), urlSecrets(safeUrl)),
      );
    }
  }

  private async fetchNow(): Promise<string> {
    try {
      if (!this.initialized) {
        await this.initClone();
        this.initialized = true;
        if (localRepoPath(this.url) !== undefined) this.sharedGitDir = await sharedSourceGitDir(this.dir);
      } else if (this.sharedGitDir !== undefined) {
        // The clone borrows the repository's objects: its branch ref is all a fetch would bring.
        const head = await this.headAt(this.sharedGitDir);
        if (head !== undefined) return head;
      }
      const ref = `refs/heads/${this.branch}`;
      const git = simpleGit(this.options(this.networkTimeoutMs));
      this.applyEnv(git);
      // `--verbose`: simple-git waits 50 ms more after a command that printed nothing.
      await git.raw(['fetch', '--no-tags', '--force', '--verbose', '--no-progress', '--', this.url, `+${ref}:${ref}`]);
      const head = await this.headAt(this.dir);
      if (head !== undefined) return head;
      return validateCommit((await this.read(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim());
    } catch (err) {
      throw this.wrap('fetch', err);
    }
  }

  /**
   * The commit the branch points to in `gitDir`, from its ref files, peeled (and so checked to be
   * readable from the clone) by the long-lived reader: no process spawned. `undefined` when unsure.
   */
  private async headAt(gitDir: string): Promise<string | undefined> {
    const id = await readBranchRef(gitDir, this.branch);
    if (id === undefined) return undefined;
    try {
      const [object] = await this.batch.get([`${id}^{commit}`]);
      return object?.type === 'commit' && COMMIT_ID.test(object.oid) ? object.oid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Creates the bare clone. A repository on this machine is cloned with `--shared` (git alternates):
   * no object is copied, and a fetch of new commits transfers nothing (git sees it already has
   * them), so a poll costs the same whatever the size of the repository. A remote is fetched
   * into an empty bare repository.
   */
  private async initClone(): Promise<void> {
    if (existsSync(join(this.dir, 'HEAD'))) return;
    const local = localRepoPath(this.url);
    if (local === undefined) {
      await mkdir(this.dir, { recursive: true });
      await this.git().raw(['init', '--bare', '--quiet']);
      return;
    }
    await mkdir(dirname(this.dir), { recursive: true });
    const git = simpleGit({ ...this.options(this.networkTimeoutMs), baseDir: dirname(this.dir) });
    this.applyEnv(git);
    await git.raw(['clone', '--bare', '--shared', '--no-tags', '--quiet', '--', local, this.dir]);
  }

  private async commitExists(commit: string): Promise<boolean> {
    try {
      await this.readRaw(['cat-file', '-e', `${commit}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * `git log` of the chain `range` through the process started ahead at the previous call, then
   * starts the next one, so a push's sync does not wait for a process to start. The range goes to
   * stdin (`--stdin`), which git reads before it looks up any object, so objects fetched in between
   * are seen.
   */
  private async logSince(range: string): Promise<Buffer> {
    let primed = this.primedLog;
    this.primedLog = undefined;
    if (primed?.exited) primed = undefined;
    try {
      return await (primed ?? startGit(chainArgs(), this.readOptions())).run(`${range}\n`);
    } finally {
      this.primeWhenIdle();
    }
  }

  /**
   * Starting a process blocks the event loop for its fork and exec (25 ms with a big heap), so it
   * happens {@link PRIME_DELAY_MS} after the walk, out of the way of the work the sync sets off.
   * When that timer fires late, that work is big (a plan of 10,000 nodes, then their jobs): the
   * start then waits, looking every {@link PRIME_DELAY_MS}, for a quiet loop; after
   * {@link PRIME_MAX_WAIT_MS} of a busy loop no process is started ahead. After a full walk, the
   * head's tree (which the next walk compares with) is read then too.
   */
  private primeWhenIdle(tree?: { readonly commit: string; readonly dir: string }): void {
    clearTimeout(this.primeTimer);
    let since = performance.eventLoopUtilization();
    let due = performance.now() + PRIME_DELAY_MS;
    let waited = 0;
    const attempt = () => {
      const late = performance.now() - due > PRIME_MAX_LATE_MS;
      const busy = waited > 0 && performance.eventLoopUtilization(since).utilization > PRIME_MAX_BUSY;
      if ((late || busy) && waited < PRIME_MAX_WAIT_MS) {
        waited += PRIME_DELAY_MS;
        since = performance.eventLoopUtilization();
        due = performance.now() + PRIME_DELAY_MS;
        this.primeTimer = setTimeout(attempt, PRIME_DELAY_MS).unref();
        return;
      }
      if (late || busy || this.closed) return;
      this.primedLog?.kill();
      this.primedLog = startGit(chainArgs(), this.readOptions());
      if (tree) this.trees.prefetch([tree.commit], tree.dir);
    };
    this.primeTimer = setTimeout(attempt, PRIME_DELAY_MS).unref();
  }

  /** A read-only git command in the clone, without simple-git (see git-process.ts). */
  private async read(args: readonly string[]): Promise<string> {
    return (await this.readRaw(args)).toString('utf8');
  }

  private readRaw(args: readonly string[], input?: string): Promise<Buffer> {
    return runGit(args, { ...this.readOptions(), ...(input !== undefined ? { input } : {}) });
  }

  /** Reads need no credentials: neither the token nor the SSH command reaches these processes. */
  private readOptions(): GitRunOptions {
    return { cwd: this.dir, env: childEnv(), config: READ_CONFIG, stallTimeoutMs: this.readTimeoutMs };
  }

  private git(): SimpleGit {
    const git = simpleGit(this.options(this.readTimeoutMs));
    this.applyEnv(git);
    return git;
  }

  private options(timeoutMs: number): Partial<SimpleGitOptions> {
    const config = [...READ_CONFIG];
    if (this.token) config.push(`http.extraHeader=Authorization: Basic ${basicAuth(this.token)}`);
    return {
      baseDir: this.dir,
      config,
      timeout: { block: timeoutMs },
      maxConcurrentProcesses: 4,
      allowEnvironment: this.sshCommand ? ['GIT_TERMINAL_PROMPT', 'GIT_SSH_COMMAND'] : ['GIT_TERMINAL_PROMPT'],
      ...(this.sshCommand ? { unsafe: { allowUnsafeSshCommand: true } } : {}),
    };
  }

  private applyEnv(git: SimpleGit): void {
    const env = childEnv();
    if (this.sshCommand) env['GIT_SSH_COMMAND'] = this.sshCommand;
    git.env(env);
  }

  private wrap(operation: string, err: unknown): GitSourceError {
    if (err instanceof GitSourceError) return err;
    let message = sanitizeMessage(errorText(err), this.secrets);
    if (message === '') message = 'git failed';
    return new GitSourceError(`git ${operation} ${this.displayUrl}`, message);
  }
}

/** Longest chain whose changes {@link SimpleGitSource.changesSince} finds by comparing trees itself. */
const TREE_DIFF_MAX_COMMITS = 16;

/** How often, after a `git log`, the loop is looked at to start the next one ahead (see primeWhenIdle). */
const PRIME_DELAY_MS = 100;
/** A timer this late means a long task just ran: starting the process ahead waits. */
const PRIME_MAX_LATE_MS = 50;
/** While waiting, event loop utilization above which it waits on. */
const PRIME_MAX_BUSY = 0.5;
/** Longest wait for a quiet loop; then no process is started ahead. */
const PRIME_MAX_WAIT_MS = 5000;

const COMMIT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Whether a validated path names a manifest file rather than a directory. */
function isFilePath(pathspec: string): boolean {
  return /\.(ya?ml|json)$/i.test(pathspec);
}

/** The directory {@link SimpleGitSource.changesSince} walks for a path: the file's, or the path itself. */
function walkDirectory(pathspec: string): string {
  if (pathspec === '' || !isFilePath(pathspec)) return pathspec;
  const slash = pathspec.lastIndexOf('/');
  return slash < 0 ? '' : pathspec.slice(0, slash);
}

/** `git log --stdin` of a first-parent chain: the commits alone, no changes (see changesSince). */
function chainArgs(): string[] {
  return ['log', '--first-parent', '--reverse', '--no-color', '-z', `--format=${LOG_FORMAT}`, '--stdin', '--'];
}

/** `git log` of the first-parent chain with raw changes; `relative` limits the diff to a directory. */
function logArgs(relative: string, range: string, pathspecs: readonly string[]): string[] {
  return [
    'log',
    '--first-parent',
    '--diff-merges=first-parent',
    '--reverse',
    '--raw',
    '--no-abbrev',
    '--no-renames',
    '--no-color',
    '-z',
    `--format=${LOG_FORMAT}`,
    ...(relative !== '' ? [`--relative=${relative}/`] : []),
    range,
    '--',
    ...pathspecs,
  ];
}

/** Child environment built from an allow-list, plus the variables git needs to never prompt. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  for (const name of PASSED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The filesystem path of a local repository (a path or `file://` URL), else `undefined`. */
function localRepoPath(url: string): string | undefined {
  if (url.startsWith('/')) return url;
  if (/^file:\/\//i.test(url)) {
    try {
      return fileURLToPath(url);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function basicAuth(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64');
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
