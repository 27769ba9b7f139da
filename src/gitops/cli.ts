/**
 * What the Git-writing CLI verbs (`rollout undo`, `set image`, `rollout pause|resume`) share: how they reach Git, their
 * flags and their output.
 *
 * How the CLI reaches Git:
 * - through the worker (default): `POST .../rollback|image|paused` on `--server` (env `DSCTL_SERVER`); the worker
 *   commits with its own clone, identity and credentials, serialised with its other writes;
 * - straight to the repository with `--repo PATH_OR_URL` (or env `DSCTL_REPO` when no `--server` is given):
 *   history computed from Git, commit from a private clone; `--branch` (env `DSCTL_BRANCH`), `--path`
 *   (env `DSCTL_PATH`), `--ssh-key` (env `DSCTL_SSH_KEY`, or `GIT_SSH_COMMAND`), token from env `DSCTL_GIT_TOKEN`,
 *   committer from `--git-author-name/--git-author-email` (env `DSCTL_GIT_AUTHOR_NAME/_EMAIL`).
 */
import { Option, type Command } from 'commander';
import { ApiClient, ApiError, resolveServer } from '../cli/client.js';
import { CliError } from '../cli/errors.js';
import { DsctlError } from '../errors.js';
import { InvalidSourceInputError } from '../source/errors.js';
import { DEFAULT_IDENTITY, sshCommandForKey, type GitIdentity } from './git-writer.js';
import { withLocalGitOps, type LocalRepoOptions } from './local.js';
import type { GitOpsService } from './service.js';
import type { ChangeResult, DaemonSetKey } from './types.js';

/** Options of every Git-writing verb. */
export interface GitOpsCliOptions {
  namespace: string;
  server?: string;
  dryRun?: boolean;
  output?: string;
  repo?: string;
  branch?: string;
  path?: string;
  dataDir?: string;
  sshKey?: string;
  gitAuthorName?: string;
  gitAuthorEmail?: string;
}

/** Adds `--dry-run`, `-o json` and the `--repo` family of flags. */
export function withGitOpsOptions(cmd: Command): Command {
  return cmd
    .option('--dry-run', 'print the commit message and the diff; write nothing')
    .addOption(new Option('-o, --output <format>', 'print the whole result').choices(['json']))
    .option(
      '--repo <pathOrUrl>',
      'write to this Git repository directly instead of through the worker (env DSCTL_REPO)',
    )
    .option('--branch <branch>', "with --repo: branch (env DSCTL_BRANCH; default: the remote's default branch)")
    .option('--path <path>', 'with --repo: directory inside the repository holding the manifests (env DSCTL_PATH)')
    .option('--data-dir <dir>', 'with --repo: keep the clones in <dir> (default: a temporary directory)')
    .option('--ssh-key <path>', 'with --repo: SSH private key (env DSCTL_SSH_KEY; or set GIT_SSH_COMMAND)')
    .option('--git-author-name <name>', 'with --repo: committer name (env DSCTL_GIT_AUTHOR_NAME, default dsctl)')
    .option(
      '--git-author-email <email>',
      'with --repo: committer email (env DSCTL_GIT_AUTHOR_EMAIL, default dsctl@localhost)',
    );
}

/**
 * The direct-repository options when the CLI should write Git itself: `--repo` given, or `DSCTL_REPO` set and no
 * `--server`. Undefined means "through the worker".
 */
export function localRepoOptions(
  opts: GitOpsCliOptions,
  env: NodeJS.ProcessEnv = process.env,
): LocalRepoOptions | undefined {
  const repo = opts.repo ?? (opts.server === undefined ? nonEmpty(env['DSCTL_REPO']) : undefined);
  if (repo === undefined) return undefined;
  const sshKey = opts.sshKey ?? nonEmpty(env['DSCTL_SSH_KEY']);
  const sshCommand = sshKey !== undefined ? sshCommandForKey(sshKey) : nonEmpty(env['GIT_SSH_COMMAND']);
  const identity: GitIdentity = {
    name: opts.gitAuthorName ?? nonEmpty(env['DSCTL_GIT_AUTHOR_NAME']) ?? DEFAULT_IDENTITY.name,
    email: opts.gitAuthorEmail ?? nonEmpty(env['DSCTL_GIT_AUTHOR_EMAIL']) ?? DEFAULT_IDENTITY.email,
  };
  const branch = opts.branch ?? nonEmpty(env['DSCTL_BRANCH']);
  const path = opts.path ?? nonEmpty(env['DSCTL_PATH']);
  const token = nonEmpty(env['DSCTL_GIT_TOKEN']);
  return {
    repo,
    identity,
    ...(branch === undefined ? {} : { branch }),
    ...(path === undefined || path === '.' ? {} : { path }),
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    ...(token === undefined ? {} : { token }),
    ...(sshCommand === undefined ? {} : { sshCommand }),
  };
}

/**
 * Runs one change: locally with `--repo`, else as `POST <daemonset path>/<route>` on the worker. Errors become
 * {@link CliError}s (exit 2 for bad input, 1 otherwise).
 */
export async function runChange(
  ref: DaemonSetKey,
  opts: GitOpsCliOptions,
  local: (service: GitOpsService) => Promise<ChangeResult>,
  remote: { route: string; body: unknown },
): Promise<ChangeResult> {
  let repo: LocalRepoOptions | undefined;
  try {
    repo = localRepoOptions(opts);
  } catch (err) {
    throw asCliError(err, 2);
  }
  if (repo !== undefined) {
    try {
      return await withLocalGitOps(repo, (service) => local(service));
    } catch (err) {
      throw asCliError(err, 1);
    }
  }
  const client = new ApiClient({ server: resolveServer(opts.server) });
  return client.request<ChangeResult>('POST', `${daemonSetPath(ref)}/${remote.route}`, remote.body);
}

/** True for the answers of a worker that cannot write Git: 501, or 404 "no route" from an older worker. */
export function isGitOpsUnavailable(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  return err.status === 501 || (err.status === 404 && err.message.startsWith('no route '));
}

/** Prints a result: the kubectl line on stdout (after the commit message and diff of a dry run), warnings on stderr. */
export function printChange(result: ChangeResult, output: string | undefined): void {
  for (const w of result.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  if (result.outcome === 'dry-run') {
    const message = (result.commitMessage ?? '').replace(/\n+$/, '');
    process.stdout.write(`${message}\n\n${result.diff ?? ''}`);
  }
  process.stdout.write(`${result.message}\n`);
}

/** The DaemonSet's API path. */
export function daemonSetPath(ref: DaemonSetKey): string {
  return `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/daemonsets/${encodeURIComponent(ref.name)}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function asCliError(err: unknown, exitCode: 1 | 2): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof InvalidSourceInputError) return new CliError(err.message, 2);
  if (err instanceof DsctlError) return new CliError(err.message, exitCode);
  return err;
}
