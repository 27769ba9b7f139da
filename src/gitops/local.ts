/**
 * Git-written changes without a worker (`dsctl rollout undo ... --repo PATH_OR_URL`): the history is computed from
 * Git alone (a bare cache clone replayed into a memory store, as `rollout history --repo` does), the change is
 * committed from a private working clone. Both clones live in `--data-dir`, or in a temporary directory removed
 * afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryHistoryStore } from '../revision/memory-store.js';
import { GitSync } from '../source/git-sync.js';
import { repoCacheDir, SimpleGitSource } from '../source/simple-git-source.js';
import { validatePath, validateRepoUrl } from '../source/validate.js';
import { GitWriteError } from './errors.js';
import { GitWriter, worktreeDir, type GitIdentity } from './git-writer.js';
import { GitOpsService } from './service.js';

export interface LocalRepoOptions {
  /** Clone URL or local path. */
  readonly repo: string;
  /** @defaultValue the remote's default branch, else `main` */
  readonly branch?: string;
  /** Directory inside the repository holding the manifests. @defaultValue '' */
  readonly path?: string;
  /** Keep the clones here (reused next time); default: a temporary directory. */
  readonly dataDir?: string;
  readonly token?: string;
  readonly sshCommand?: string;
  readonly identity?: GitIdentity;
}

/** Runs `fn` with a {@link GitOpsService} on the repository; cleans up the temporary directory afterwards. */
export async function withLocalGitOps<T>(
  options: LocalRepoOptions,
  fn: (service: GitOpsService, where: { displayUrl: string; branch: string }) => Promise<T>,
): Promise<T> {
  const url = validateRepoUrl(options.repo);
  const path = validatePath(options.path ?? '');
  const temp = options.dataDir ? undefined : await mkdtemp(join(tmpdir(), 'dsctl-gitops-'));
  try {
    const dataDir = options.dataDir ?? temp!;
    const branch = options.branch ?? (await defaultBranch(url)) ?? 'main';
    const secrets = {
      ...(options.token ? { token: options.token } : {}),
      ...(options.sshCommand ? { sshCommand: options.sshCommand } : {}),
    };
    const source = new SimpleGitSource({ url, branch, dir: repoCacheDir(dataDir, url), ...secrets });
    const store = new MemoryHistoryStore();
    const sync = new GitSync({ source, store, path });
    const writer = new GitWriter({
      url,
      branch,
      // Not the worker's clone, even with the worker's data dir: the CLI does not take the worker's Redis lock.
      dir: worktreeDir(join(dataDir, 'cli'), url, branch),
      ...secrets,
      ...(options.identity ? { identity: options.identity } : {}),
    });
    const service = new GitOpsService({
      writer,
      path,
      history: async (key) => {
        const result = await sync.sync({ force: true });
        if (result.outcome === 'fetch-failed') {
          throw new GitWriteError(result.source.lastError ?? `cannot read ${writer.displayUrl}`);
        }
        return store.getDaemonSet(key);
      },
    });
    return await fn(service, { displayUrl: writer.displayUrl, branch });
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

async function defaultBranch(url: string): Promise<string | undefined> {
  try {
    return await SimpleGitSource.defaultBranch(url);
  } catch {
    return undefined;
  }
}
