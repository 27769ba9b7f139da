/**
 * Real temporary Git repositories for tests: `git init`, commits with fixed authors and dates,
 * bare remotes, force-pushes. Git runs with an isolated config (no user or system config).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Author {
  name: string;
  email?: string;
  /** Any date git accepts; ISO 8601 recommended, e.g. `2024-01-02T10:00:00Z`. */
  date?: string;
}

export interface TestRepo {
  /** Working tree directory. */
  dir: string;
  /** `git <args>` in the repository; returns trimmed stdout. */
  git(args: string[], env?: Record<string, string>): string;
  /** Full sha of `HEAD`. */
  head(): string;
  /** Removes the directory. */
  remove(): void;
}

const tempRoots: string[] = [];

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(label = 'dsctl-git'): string {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  tempRoots.push(dir);
  return dir;
}

/** Removes every directory made by this helper (call in `after`). */
export function removeTempDirs(): void {
  for (const dir of tempRoots.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const DEFAULT_AUTHOR: Required<Author> = {
  name: 'Test Author',
  email: 'test@example.com',
  date: '2024-01-01T00:00:00Z',
};

function baseEnv(home: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
  };
}

function run(cwd: string, args: string[], env: Record<string, string>): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trimEnd();
}

function wrap(dir: string): TestRepo {
  const env = baseEnv(dir);
  return {
    dir,
    git: (args, extra = {}) => run(dir, args, { ...env, ...extra }),
    head: () => run(dir, ['rev-parse', 'HEAD'], env),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `git init -b <branch>` in a new temporary directory. */
export function makeRepo(options: { branch?: string } = {}): TestRepo {
  const dir = tempDir('dsctl-repo');
  const repo = wrap(dir);
  repo.git(['init', '--quiet', '-b', options.branch ?? 'main']);
  repo.git(['config', 'commit.gpgsign', 'false']);
  return repo;
}

/** A bare repository to push to (a stand-in for a hosted remote). */
export function makeBareRemote(options: { branch?: string } = {}): TestRepo {
  const dir = tempDir('dsctl-remote');
  const repo = wrap(dir);
  repo.git(['init', '--quiet', '--bare', '-b', options.branch ?? 'main']);
  return repo;
}

/**
 * Writes files (`null` deletes one) and commits them all with the given author and date (used for
 * both author and committer, so shas are reproducible). Returns the new commit's sha.
 */
export function commitFiles(
  repo: TestRepo,
  files: Record<string, string | null>,
  message: string,
  author: Author = DEFAULT_AUTHOR,
): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(repo.dir, path);
    if (content === null) {
      rmSync(full, { recursive: true, force: true });
    } else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  repo.git(['add', '--all']);
  repo.git(['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message], authorEnv(author));
  return repo.head();
}

/** `GIT_AUTHOR_*` and `GIT_COMMITTER_*` for `author` (defaults filled in), for a reproducible commit. */
export function authorEnv(author: Author = DEFAULT_AUTHOR): Record<string, string> {
  const who = { ...DEFAULT_AUTHOR, ...author };
  return {
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_AUTHOR_DATE: who.date,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
    GIT_COMMITTER_DATE: who.date,
  };
}

/** Adds `remote` as `origin` (if needed) and pushes the branch; `force` for a force-push. */
export function push(repo: TestRepo, remote: TestRepo, options: { branch?: string; force?: boolean } = {}): void {
  const branch = options.branch ?? 'main';
  const remotes = repo.git(['remote']).split('\n');
  if (!remotes.includes('origin')) repo.git(['remote', 'add', 'origin', remote.dir]);
  repo.git(['push', '--quiet', ...(options.force ? ['--force'] : []), 'origin', `${branch}:refs/heads/${branch}`]);
}

/** `git reset --hard <ref>` (e.g. `HEAD~2`), to rewrite history before a force-push. */
export function resetHard(repo: TestRepo, ref: string): void {
  repo.git(['reset', '--quiet', '--hard', ref]);
}

/** Commit message subjects from the working tree, oldest first (first-parent). */
export function subjects(repo: TestRepo): string[] {
  return repo.git(['log', '--first-parent', '--reverse', '--format=%s']).split('\n');
}

/** A DaemonSet manifest in YAML, for one-line test fixtures. */
export function daemonSetYaml(options: {
  name: string;
  namespace?: string;
  image: string;
  strategy?: 'RollingUpdate' | 'OnDelete';
  maxUnavailable?: number | string;
  revisionHistoryLimit?: number;
  changeCause?: string;
  env?: Record<string, string>;
}): string {
  const lines = [
    'apiVersion: apps/v1',
    'kind: DaemonSet',
    'metadata:',
    `  name: ${options.name}`,
    `  namespace: ${options.namespace ?? 'default'}`,
  ];
  if (options.changeCause) {
    lines.push('  annotations:', `    kubernetes.io/change-cause: ${JSON.stringify(options.changeCause)}`);
  }
  lines.push('spec:');
  if (options.revisionHistoryLimit !== undefined) lines.push(`  revisionHistoryLimit: ${options.revisionHistoryLimit}`);
  lines.push('  selector:', '    matchLabels:', `      app: ${options.name}`);
  if (options.strategy === 'OnDelete') {
    lines.push('  updateStrategy:', '    type: OnDelete');
  } else if (options.maxUnavailable !== undefined) {
    lines.push(
      '  updateStrategy:',
      '    type: RollingUpdate',
      '    rollingUpdate:',
      `      maxUnavailable: ${JSON.stringify(options.maxUnavailable)}`,
    );
  }
  lines.push(
    '  template:',
    '    metadata:',
    '      labels:',
    `        app: ${options.name}`,
    '    spec:',
    '      containers:',
    `        - name: ${options.name}`,
    `          image: ${options.image}`,
  );
  if (options.env && Object.keys(options.env).length > 0) {
    lines.push('          env:');
    for (const [k, v] of Object.entries(options.env))
      lines.push(`            - name: ${k}`, `              value: ${JSON.stringify(v)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes a file outside any repository (e.g. a manifest to copy around). */
export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
