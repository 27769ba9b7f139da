/**
 * `dsctl rollout history ds/NAME`, printed like kubectl (daemonset-semantics.md §12.4) with Git
 * columns added. With `--repo PATH_OR_URL` it is an offline audit: the history is computed
 * straight from Git (no Redis, no worker) by replaying the branch into a memory store. Without
 * `--repo` it asks the worker's HTTP API (`--server`, `DSCTL_SERVER`), like kubectl asks the API
 * server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { findRevision, previousRevision } from '../../revision/history.js';
import { diffTemplates } from '../../revision/diff.js';
import { MemoryHistoryStore } from '../../revision/memory-store.js';
import type { DaemonSetRecord, ManifestError } from '../../revision/store.js';
import { DsctlError } from '../../errors.js';
import { GitSync } from '../../source/git-sync.js';
import { InvalidSourceInputError } from '../../source/errors.js';
import { repoCacheDir, SimpleGitSource } from '../../source/simple-git-source.js';
import { redactUrl } from '../../source/redact.js';
import { validatePath, validateRepoUrl } from '../../source/validate.js';
import { ApiClient, resolveServer } from '../client.js';
import { CliError } from '../errors.js';
import { formatHistoryTable, formatRevisionDetail, toHistoryEntry } from '../print/history.js';
import { formatPodTemplate } from '../print/pod-template.js';

export interface RolloutHistoryOptions {
  namespace: string;
  repo?: string;
  branch?: string;
  path: string;
  revision?: string;
  all?: boolean;
  output?: string;
  dataDir?: string;
  server?: string;
}

const DAEMONSET_TYPES = new Set(['ds', 'daemonset', 'daemonsets', 'daemonset.apps', 'daemonsets.apps']);

/** Registers `rollout history` under the (shared) `rollout` command. */
export function registerRolloutHistory(program: Command): void {
  rolloutCommand(program)
    .command('history')
    .description('show the revision history of a DaemonSet (computed from Git with --repo, else asked of the worker)')
    .argument('<resource>', 'ds/NAME (or "ds NAME")')
    .argument('[name]', 'DaemonSet name when the resource is given as "ds"')
    .option('-n, --namespace <namespace>', 'namespace of the DaemonSet', 'default')
    .option('--repo <pathOrUrl>', 'Git repository (clone URL or local path) to read the history from')
    .option('--branch <branch>', "branch to read (default: the repository's default branch)")
    .option('--path <path>', 'directory inside the repository holding the manifests', '')
    .option('--revision <n>', 'show the pod template of revision N and the patch from the revision before it')
    .option('--all', 'ignore revisionHistoryLimit and keep DaemonSets removed from Git: the whole history')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json']))
    .option('--data-dir <dir>', 'keep the clone in <dir>/repos/<sha256 of url> (default: a temporary directory)')
    .option(
      '--server <url>',
      'worker API to ask when --repo is not given (default: $DSCTL_SERVER or http://127.0.0.1:8080)',
    )
    .action(async (resource: string, name: string | undefined, opts: RolloutHistoryOptions) => {
      process.stdout.write(await rolloutHistory(resource, name, opts));
    });
}

/** Finds or creates the `rollout` parent command, so several files can add subcommands. */
function rolloutCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'rollout') ??
    program.command('rollout').description('manage the rollout of a DaemonSet')
  );
}

/** The command's output (stdout text); warnings go to stderr; failures throw {@link CliError}. */
export async function rolloutHistory(
  resource: string,
  nameArg: string | undefined,
  opts: RolloutHistoryOptions,
): Promise<string> {
  const name = resolveName(resource, nameArg);
  const revisionNumber = opts.revision === undefined ? undefined : parseRevision(opts.revision);
  if (!opts.repo) return fromWorker(name, revisionNumber, opts);
  let url: string;
  let path: string;
  try {
    url = validateRepoUrl(opts.repo);
    path = validatePath(opts.path);
  } catch (err) {
    throw asCliError(err, 2);
  }
  const key = `${opts.namespace}/${name}`;

  const tempDir = opts.dataDir ? undefined : await mkdtemp(join(tmpdir(), 'dsctl-history-'));
  try {
    const branch = opts.branch ?? (await defaultBranch(url));
    const dir = repoCacheDir(opts.dataDir ?? tempDir!, url);
    const source = new SimpleGitSource({ url, branch, dir });
    const store = new MemoryHistoryStore();
    const sync = new GitSync({
      source,
      store,
      path,
      ...(opts.all ? { prune: false, revisionHistoryLimit: Infinity } : {}),
    });
    const result = await sync.sync({ force: true });
    if (result.outcome === 'fetch-failed') {
      throw new CliError(result.source.lastError ?? `cannot read ${redactUrl(url)}`, 1);
    }
    const record = await store.getDaemonSet(key);
    if (!record) {
      const mentioned = [...(await store.getFileErrors()).values()].flat().filter((e) => e.key === key);
      warnErrors(mentioned);
      throw new CliError(
        `daemonsets.apps "${name}" not found in namespace "${opts.namespace}" ` +
          `(${redactUrl(url)}, branch ${branch}${path ? `, path ${path}` : ''})`,
        1,
      );
    }
    warnErrors(record.errors);
    return render(name, record, revisionNumber, opts.output === 'json');
  } catch (err) {
    throw asCliError(err, 1);
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

function render(name: string, record: DaemonSetRecord, revisionNumber: number | undefined, json: boolean): string {
  const revisions = record.history.revisions;
  if (revisionNumber === undefined || revisionNumber === 0) {
    if (json) return `${JSON.stringify(revisions.map(toHistoryEntry), null, 2)}\n`;
    return formatHistoryTable(name, revisions);
  }
  const revision = findRevision(record.history, revisionNumber);
  if (!revision) {
    const existing = revisions.map((r) => r.revision).join(', ') || 'none';
    throw new CliError(`unable to find the specified revision (revisions: ${existing})`, 1);
  }
  const previous = previousRevision(record.history, revisionNumber);
  const patch = previous ? diffTemplates(previous.template, revision.template) : [];
  if (json) {
    const detail = {
      ...toHistoryEntry(revision),
      template: revision.template,
      previousRevision: previous?.revision ?? null,
      patch,
    };
    return `${JSON.stringify(detail, null, 2)}\n`;
  }
  return formatRevisionDetail(name, revision, previous, patch);
}

/**
 * The history as the worker knows it. The API serves history entries and the current DaemonSet, so
 * `--revision N` shows the pod template of the current revision only; older templates need `--repo`.
 */
async function fromWorker(
  name: string,
  revisionNumber: number | undefined,
  opts: RolloutHistoryOptions,
): Promise<string> {
  const client = new ApiClient({ server: resolveServer(opts.server) });
  const entries = await client.history(opts.namespace, name, opts.all === true);
  const json = opts.output === 'json';
  if (revisionNumber === undefined || revisionNumber === 0) {
    return json ? `${JSON.stringify(entries, null, 2)}\n` : formatHistoryTable(name, entries);
  }
  const entry = entries.find((e) => e.revision === revisionNumber);
  if (!entry) {
    const existing = entries.map((e) => e.revision).join(', ') || 'none';
    throw new CliError(`unable to find the specified revision (revisions: ${existing})`, 1);
  }
  const latest = Math.max(...entries.map((e) => e.revision));
  if (entry.revision !== latest) {
    throw new CliError(
      `the worker API serves the pod template of the current revision (#${latest}) only; ` +
        `use --repo PATH_OR_URL to read revision #${entry.revision} from Git`,
      1,
    );
  }
  const template = (await client.getDaemonSet(opts.namespace, name)).spec.template ?? {};
  if (json) return `${JSON.stringify({ ...entry, template, previousRevision: null, patch: null }, null, 2)}\n`;
  return `daemonset.apps/${name} with revision #${entry.revision}\n${formatPodTemplate(template)}`;
}

function resolveName(resource: string, nameArg: string | undefined): string {
  const slash = resource.indexOf('/');
  const [type, name] = slash >= 0 ? [resource.slice(0, slash), resource.slice(slash + 1)] : [resource, nameArg];
  if (!DAEMONSET_TYPES.has(type.toLowerCase())) {
    throw new CliError(`rollout history supports DaemonSets only (ds/NAME), got "${resource}"`, 2);
  }
  if (slash >= 0 && nameArg !== undefined) throw new CliError('give the name once: ds/NAME or ds NAME', 2);
  if (!name) throw new CliError('a DaemonSet name is required: ds/NAME', 2);
  return name;
}

function parseRevision(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new CliError(`invalid revision "${text}": must be an integer`, 2);
  const n = Number(text);
  if (n < 0) throw new CliError('revision must be a positive integer', 2);
  return n;
}

async function defaultBranch(url: string): Promise<string> {
  return (await SimpleGitSource.defaultBranch(url)) ?? 'main';
}

function warnErrors(errors: readonly ManifestError[]): void {
  for (const e of errors) {
    const where = e.file ? `${e.file}${e.line ? `:${e.line}:${e.column}` : ''}` : 'source';
    process.stderr.write(
      `warning: ${where} (commit ${e.commit.slice(0, 7)}): ${e.message}; showing the last good state\n`,
    );
  }
}

function asCliError(err: unknown, exitCode: 1 | 2): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof InvalidSourceInputError) return new CliError(err.message, 2);
  if (err instanceof DsctlError) return new CliError(err.message, exitCode);
  return err;
}
