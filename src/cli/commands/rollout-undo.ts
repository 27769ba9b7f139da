/**
 * `dsctl rollout undo ds/NAME [-n NS] [--to-revision N] [--dry-run]`: kubectl's rollback (daemonset-semantics.md
 * §12.5), as a Git commit. The template of revision N (default: the one before the current, i.e. the second-highest
 * number) is written into the DaemonSet's document at the branch tip, comments and formatting kept, committed with
 * `Rollback-To-Revision`/`Rollback-Of-Commit` trailers and pushed; the worker then rolls it out, and the history shows
 * revision N reused with the next number.
 *
 * Through the worker (`--server`) by default; with `--repo PATH_OR_URL` straight to the repository (see
 * `src/gitops/cli.ts`). Output: `daemonset.apps/NAME rolled back`, or `daemonset.apps/NAME skipped rollback (current
 * template already matches revision N)`; an unknown revision is `error: unable to find specified revision N in
 * history (revisions: ...)` (exit 1).
 */
import type { Command } from 'commander';
import { printChange, runChange, withGitOpsOptions, type GitOpsCliOptions } from '../../gitops/cli.js';
import { CliError } from '../errors.js';
import { daemonSetName, rolloutCommand, withNamespace, withServer } from './common.js';

interface UndoOptions extends GitOpsCliOptions {
  toRevision: string;
}

/** Registers `rollout undo`. */
export function registerRolloutUndo(program: Command): void {
  const cmd = rolloutCommand(program)
    .command('undo')
    .description('roll back a DaemonSet to an earlier revision by committing its pod template to Git')
    .argument('<resource>', 'ds/NAME (or "ds NAME")')
    .argument('[name]', 'DaemonSet name when the resource is given as "ds"')
    .option('--to-revision <n>', 'the revision to roll back to; 0 (default) means the one before the current', '0');
  withNamespace(cmd);
  withServer(cmd);
  withGitOpsOptions(cmd);
  cmd.action(async (resource: string, nameArg: string | undefined, opts: UndoOptions) => {
    const name = daemonSetName(nameArg === undefined ? [resource] : [resource, nameArg], 'rollout undo');
    const toRevision = parseRevision(opts.toRevision);
    const ref = { namespace: opts.namespace, name };
    const request = { toRevision, dryRun: opts.dryRun === true };
    const result = await runChange(ref, opts, (service) => service.rollback(ref, request), {
      route: 'rollback',
      body: request,
    });
    printChange(result, opts.output);
  });
}

function parseRevision(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new CliError(`invalid --to-revision "${text}": must be an integer`, 2);
  const n = Number(text);
  if (n < 0) throw new CliError('revision must be a positive integer', 2);
  return n;
}
