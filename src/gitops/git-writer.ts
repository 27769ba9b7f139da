/**
 * Writes changes to the watched branch as commits: a private working clone, reset to the remote tip for every
 * attempt, the change computed on that tip, one commit, one push. A push that loses a race (non-fast-forward, or the
 * remote ref moved while it was being updated) is retried on the new tip with the change computed again, so no
 * update is lost and none is applied twice; a bounded number of attempts.
 *
 * Safety (ecosystem.md §3), as in {@link SimpleGitSource}: URL, branch and paths are validated; the URL is passed on
 * every command line and never stored in the clone's config; an HTTPS token travels as an `http.extraHeader`
 * (never in a URL, a file or a message); SSH keys come through `GIT_SSH_COMMAND`, which needs simple-git's two
 * opt-ins; the child environment is an allow-list, never a spread of `process.env`; every command has a stall
 * timeout; git output is sanitized before it reaches an error.
 *
 * Concurrency: writers of one clone directory are serialised in this process, and `lock` (a Redis lock in the
 * worker) serialises them across processes sharing the directory or the remote.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { simpleGit, type SimpleGit, type SimpleGitOptions } from 'simple-git';
import { redactUrl, sanitizeMessage, urlSecrets } from '../source/redact.js';
import { validateBranch, validatePath, validateRepoUrl } from '../source/validate.js';
import { GitPushRejectedError, GitWriteError } from './errors.js';
import { unifiedDiff } from './unified-diff.js';

/** Committer and author of the commits dsctl writes. */
export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

/** `dsctl <dsctl@localhost>`. */
export const DEFAULT_IDENTITY: GitIdentity = { name: 'dsctl', email: 'dsctl@localhost' };

export interface GitWriterOptions {
  /** Clone URL or local path of the repository (the one the worker watches). */
  readonly url: string;
  readonly branch: string;
  /** Directory of the working clone; see {@link worktreeDir}. Created on first use. */
  readonly dir: string;
  /** @defaultValue {@link DEFAULT_IDENTITY} */
  readonly identity?: GitIdentity;
  /** HTTPS token, sent as a Basic `http.extraHeader` (user `x-access-token`). */
  readonly token?: string;
  /** `GIT_SSH_COMMAND`, e.g. from {@link sshCommandForKey}. */
  readonly sshCommand?: string;
  /** Stall timeout of fetch and push. @defaultValue 60000 */
  readonly networkTimeoutMs?: number;
  /** Push attempts before giving up on a branch that keeps moving. @defaultValue 5 */
  readonly maxAttempts?: number;
  /** Runs `fn` while holding a lock shared with other processes (the worker's Redis lock). */
  readonly lock?: <T>(fn: () => Promise<T>) => Promise<T>;
  /**
   * Called after the commit and before its push (attempt number from 1). A seam for tests that make "someone else"
   * push in between; unset in production.
   */
  readonly beforePush?: (attempt: number) => Promise<void>;
}

/** Read access to the branch tip a change is computed on. */
export interface Worktree {
  /** The tip commit. */
  readonly head: string;
  /** A file's text at the tip, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Files tracked under a directory (`''` for all), repository-relative. */
  list(dir: string): Promise<string[]>;
}

/** A change to commit: new contents per file and the commit message. */
export interface ChangeSet {
  readonly files: ReadonlyMap<string, string>;
  readonly message: string;
}

/** What {@link GitWriter.write}'s callback returns when there is nothing to change. */
export interface SkipChange {
  readonly skip: string;
}

export interface WriteResult {
  /** `pushed`: the commit is on the remote branch; `skipped`: nothing to change; `dry-run`: computed only. */
  readonly outcome: 'pushed' | 'skipped' | 'dry-run';
  /** The pushed commit. */
  readonly commit?: string;
  /** The tip the change was computed on (the new commit's parent). */
  readonly base: string;
  /** 1 unless the push lost races. */
  readonly attempts: number;
  /** Unified diff of the change (empty when skipped). */
  readonly diff: string;
  readonly message: string;
  readonly skipReason?: string;
}

/** Non-git variables the child may see (as in the read side). */
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

const BASE_CONFIG = [
  'color.ui=false',
  'core.quotePath=false',
  'core.autocrlf=false',
  'commit.gpgSign=false',
  'advice.detachedHead=false',
  'init.defaultBranch=main',
  'gc.auto=0',
];

/** A push that lost a race: the tip moved between fetch and push. */
const RACE =
  /\[rejected\][^\n]*\((fetch first|non-fast-forward|stale info)\)|failed to update ref|cannot lock ref|incorrect old value|but expected|reference already exists/i;
/** A push the remote refuses on principle: retrying cannot help. */
const REFUSED =
  /\[remote rejected\]|permission|denied|forbidden|\b40[13]\b|read[- ]only|authentication failed|could not read (username|password)|not allowed|protected branch|hook declined|insufficient permission|unable to (create|write)|unpacker error|checked out/i;

/** In-process serialisation per clone directory (several writers may share one in tests and demos). */
const dirLocks = new Map<string, Promise<unknown>>();

/** `<dataDir>/worktrees/<sha256 of url and branch>`: the working clone of one branch. */
export function worktreeDir(dataDir: string, url: string, branch: string): string {
  return join(dataDir, 'worktrees', createHash('sha256').update(`${url}\0${branch}`).digest('hex'));
}

/** `ssh -i 'PATH' -o IdentitiesOnly=yes`, for `--ssh-key PATH`. */
export function sshCommandForKey(path: string): string {
  if (/['\n\r\0]/.test(path)) throw new GitWriteError(`invalid --ssh-key path ${JSON.stringify(path)}`);
  return `ssh -i '${path}' -o IdentitiesOnly=yes`;
}

export class GitWriter {
  readonly displayUrl: string;
  readonly branch: string;
  readonly dir: string;
  private readonly url: string;
  private readonly identity: GitIdentity;
  private readonly secrets: string[];
  private readonly networkTimeoutMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: GitWriterOptions) {
    this.url = validateRepoUrl(options.url);
    this.branch = validateBranch(options.branch);
    this.dir = options.dir;
    this.displayUrl = redactUrl(this.url);
    this.identity = checkIdentity(options.identity ?? DEFAULT_IDENTITY);
    this.networkTimeoutMs = options.networkTimeoutMs ?? 60_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.secrets = [...urlSecrets(this.url)];
    if (options.token) this.secrets.push(options.token, basicAuth(options.token));
  }

  /**
   * Computes a change on the branch tip with `build` and pushes it as one commit. On a lost race the tip is fetched
   * again and `build` runs again on it (it must be a function of the tip). `dryRun` fetches and computes only.
   * @throws GitPushRejectedError when the remote refuses the push (with the patch to apply by hand)
   * @throws GitWriteError when git fails otherwise or every attempt lost its race
   */
  async write(
    build: (tree: Worktree) => Promise<ChangeSet | SkipChange>,
    options: { dryRun?: boolean } = {},
  ): Promise<WriteResult> {
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const head = await this.resetToTip();
        const tree = this.worktree(head);
        const change = await build(tree);
        if ('skip' in change) {
          return { outcome: 'skipped', base: head, attempts: attempt, diff: '', message: '', skipReason: change.skip };
        }
        const diffs: string[] = [];
        for (const [path, text] of change.files) diffs.push(unifiedDiff((await tree.read(path)) ?? '', text, path));
        const diff = diffs.join('');
        if (options.dryRun) return { outcome: 'dry-run', base: head, attempts: attempt, diff, message: change.message };
        const commit = await this.commit(change);
        await this.options.beforePush?.(attempt);
        const pushed = await this.push();
        if (pushed === 'ok') {
          return { outcome: 'pushed', commit, base: head, attempts: attempt, diff, message: change.message };
        }
        if (pushed.kind === 'refused') {
          throw new GitPushRejectedError(this.displayUrl, pushed.reason, await this.formatPatch());
        }
        if (attempt >= this.maxAttempts) {
          throw new GitWriteError(
            `git push ${this.displayUrl}: the branch ${this.branch} kept moving; ${attempt} attempts lost the race ` +
              `(last: ${pushed.reason})`,
          );
        }
        await sleep(50 * attempt + Math.floor(Math.random() * 100));
      }
    });
  }

  /** The branch tip on the remote (`git ls-remote`, no lock, nothing written); undefined when the branch is missing. */
  async remoteTip(): Promise<string | undefined> {
    if (!existsSync(this.dir)) await mkdir(this.dir, { recursive: true });
    const out = await this.run(
      'ls-remote',
      ['ls-remote', '--', this.url, `refs/heads/${this.branch}`],
      this.networkTimeoutMs,
    );
    const sha = /^([0-9a-f]{40,64})\t/m.exec(out)?.[1];
    return sha;
  }

  /**
   * Full messages of the commits on the branch tip's first-parent chain whose message matches `pattern` (a fixed
   * string), newest first. Fetches first.
   */
  async findCommits(pattern: string): Promise<{ commit: string; message: string }[]> {
    return this.exclusive(async () => {
      const head = await this.resetToTip();
      const out = await this.run('log', [
        'log',
        '--first-parent',
        '--fixed-strings',
        `--grep=${pattern}`,
        '--format=%H%x1f%B%x1e',
        head,
      ]);
      return out
        .split('\x1e')
        .map((record) => record.replace(/^\n/, ''))
        .filter((record) => record.includes('\x1f'))
        .map((record) => {
          const [commit = '', message = ''] = record.split('\x1f');
          return { commit: commit.trim(), message };
        });
    });
  }

  private worktree(head: string): Worktree {
    return {
      head,
      read: async (path) => {
        const safe = validatePath(path);
        const full = join(this.dir, safe);
        if (safe === '' || !existsSync(full)) return undefined;
        return readFile(full, 'utf8');
      },
      list: async (dir) => {
        const safe = validatePath(dir);
        const out = await this.run('ls-files', ['ls-files', '-z', '--', ...(safe === '' ? [] : [safe])]);
        return out.split('\0').filter((p) => p !== '');
      },
    };
  }

  /** Serialises within this process per directory, then across processes with the caller's lock. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = dirLocks.get(this.dir) ?? Promise.resolve();
    const locked = this.options.lock ? () => this.options.lock!(fn) : fn;
    const run = previous.then(locked, locked);
    const settled = run.catch(() => undefined);
    dirLocks.set(this.dir, settled);
    try {
      return await run;
    } finally {
      if (dirLocks.get(this.dir) === settled) dirLocks.delete(this.dir);
    }
  }

  /** Creates the clone if needed, fetches the branch and makes the working tree exactly its tip. */
  private async resetToTip(): Promise<string> {
    if (!existsSync(join(this.dir, '.git'))) {
      await mkdir(this.dir, { recursive: true });
      await this.run('init', ['init', '--quiet']);
    }
    const remoteRef = `refs/remotes/origin/${this.branch}`;
    await this.run(
      'fetch',
      ['fetch', '--no-tags', '--force', '--quiet', '--', this.url, `+refs/heads/${this.branch}:${remoteRef}`],
      this.networkTimeoutMs,
    );
    await this.run('checkout', ['checkout', '--quiet', '--force', '-B', this.branch, remoteRef]);
    await this.run('clean', ['clean', '-ffdxq']);
    return (await this.run('rev-parse', ['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  }

  private async commit(change: ChangeSet): Promise<string> {
    const paths: string[] = [];
    for (const [path, text] of change.files) {
      const safe = validatePath(path);
      const full = join(this.dir, safe);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, text);
      paths.push(safe);
    }
    await this.run('add', ['add', '--', ...paths]);
    const message = change.message.endsWith('\n') ? change.message : `${change.message}\n`;
    await this.run(
      'commit',
      ['commit', '--quiet', '--no-verify', '--cleanup=verbatim', '--file=-'],
      undefined,
      message,
    );
    return (await this.run('rev-parse', ['rev-parse', '--verify', 'HEAD^{commit}'])).trim();
  }

  private async push(): Promise<'ok' | { kind: 'race' | 'refused'; reason: string }> {
    try {
      await this.run(
        'push',
        ['push', '--porcelain', '--', this.url, `HEAD:refs/heads/${this.branch}`],
        this.networkTimeoutMs,
        undefined,
        true,
      );
      return 'ok';
    } catch (err) {
      const text = errorText(err);
      const reason = pushReason(text);
      if (RACE.test(text)) return { kind: 'race', reason };
      if (REFUSED.test(text)) return { kind: 'refused', reason };
      throw this.wrap('push', err);
    }
  }

  private async formatPatch(): Promise<string> {
    try {
      return await this.run('format-patch', ['format-patch', '-1', '--stdout', 'HEAD']);
    } catch {
      return (await this.run('show', ['show', '--format=email', 'HEAD'])).toString();
    }
  }

  /** Runs one git command in the clone; output as text; failures become sanitized {@link GitWriteError}s. */
  private async run(
    operation: string,
    args: string[],
    timeoutMs = 300_000,
    input?: string,
    rawErrors = false,
  ): Promise<string> {
    const git = this.git(timeoutMs, input);
    try {
      return await git.raw(args);
    } catch (err) {
      // No `cause`: git's raw message may carry credentials; only the sanitized text travels on.
      // eslint-disable-next-line preserve-caught-error
      if (rawErrors) throw new Error(this.sanitizeLines(errorText(err)));
      throw this.wrap(operation, err);
    }
  }

  private git(timeoutMs: number, input?: string): SimpleGit {
    const config = [...BASE_CONFIG, `user.name=${this.identity.name}`, `user.email=${this.identity.email}`];
    if (this.options.token) config.push(`http.extraHeader=Authorization: Basic ${basicAuth(this.options.token)}`);
    const ssh = this.options.sshCommand;
    const options: Partial<SimpleGitOptions> = {
      baseDir: this.dir,
      config,
      timeout: { block: timeoutMs },
      maxConcurrentProcesses: 2,
      allowEnvironment: ssh ? ['GIT_TERMINAL_PROMPT', 'GIT_SSH_COMMAND'] : ['GIT_TERMINAL_PROMPT'],
      ...(ssh ? { unsafe: { allowUnsafeSshCommand: true } } : {}),
      ...(input === undefined ? {} : { input: () => input }),
    };
    const git = simpleGit(options);
    const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
    for (const name of PASSED_ENV) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    if (ssh) env['GIT_SSH_COMMAND'] = ssh;
    git.env(env);
    return git;
  }

  /** Like `sanitizeMessage`, line by line, so git's multi-line push report can still be read. */
  private sanitizeLines(text: string): string {
    return text
      .split('\n')
      .map((line) => sanitizeMessage(line, this.secrets, 1000))
      .join('\n')
      .slice(0, 8000);
  }

  private wrap(operation: string, err: unknown): GitWriteError {
    if (err instanceof GitWriteError) return err;
    let message = sanitizeMessage(errorText(err), this.secrets);
    if (message === '') message = 'git failed';
    if (operation === 'fetch' && /couldn't find remote ref/i.test(message)) {
      message = `branch ${this.branch} does not exist there (${message})`;
    }
    return new GitWriteError(`git ${operation} ${this.displayUrl}: ${message}`);
  }
}

/** The line of git's push output that says why (`! [remote rejected] main -> main (pre-receive hook declined)`). */
function pushReason(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  const rejected = lines.find((l) => /\[(remote )?rejected\]/.test(l));
  if (rejected) {
    const why = /\(([^)]*)\)\s*$/.exec(rejected)?.[1];
    const remote = lines.filter((l) => /^remote: \S/.test(l) && !/^remote: (error: )?$/.test(l)).map((l) => l.slice(8));
    return [why ?? rejected, ...remote.slice(0, 3)].filter((s) => s !== '').join('; ');
  }
  const fatal = lines.find((l) => /^(fatal|error|remote):/.test(l));
  return (fatal ?? lines.find((l) => l !== '') ?? 'push failed').slice(0, 300);
}

function checkIdentity(identity: GitIdentity): GitIdentity {
  const bad = /[<>\n\r\0]/;
  if (identity.name.trim() === '' || bad.test(identity.name)) {
    throw new GitWriteError(`invalid committer name ${JSON.stringify(identity.name)}`);
  }
  if (!/^[^\s<>@]+@[^\s<>@]+$/.test(identity.email)) {
    throw new GitWriteError(`invalid committer email ${JSON.stringify(identity.email)}`);
  }
  return { name: identity.name.trim(), email: identity.email };
}

function basicAuth(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
