/**
 * `dsctl rollout pause|resume ds/NAME [-n NS] [--dry-run] [--runtime]`: pauses or resumes the rollout of a DaemonSet.
 * kubectl has no pause for DaemonSets; the wording follows kubectl's for Deployments: `daemonset.apps/NAME paused`.
 *
 * GitOps first: pause commits the annotation `dsctl.dev/paused: "true"` on the DaemonSet's metadata, resume commits
 * its removal (through the worker, or with `--repo` straight to the repository), so the pause is in the audit trail
 * and survives the loss of Redis. Resume also lifts a runtime pause.
 *
 * The runtime pause (a flag in Redis, `POST .../pause|resume`, no commit) stays as the emergency brake: `--runtime`
 * asks for it, and the worker falls back to it on its own when it cannot write Git (a read-only remote: the pause
 * then works at once and a warning says it is not recorded in Git). A worker without Git write support (501) gets
 * the runtime pause too.
 */
import type { Command } from 'commander';
import {
  isGitOpsUnavailable,
  printChange,
  runChange,
  withGitOpsOptions,
  type GitOpsCliOptions,
} from '../../gitops/cli.js';
import { clientFor, daemonSetName, out, rolloutCommand, withNamespace, withServer } from './common.js';

interface PauseOptions extends GitOpsCliOptions {
  runtime?: boolean;
}

/** Registers `rollout pause` and `rollout resume`. */
export function registerRolloutPause(program: Command): void {
  for (const action of ['pause', 'resume'] as const) {
    const cmd = rolloutCommand(program)
      .command(action)
      .description(
        action === 'pause'
          ? 'pause the rollout of a DaemonSet (commits the dsctl.dev/paused annotation)'
          : 'resume a paused rollout (commits the removal of the dsctl.dev/paused annotation)',
      )
      .argument('<resource>', 'ds/NAME (or "ds NAME")')
      .argument('[name]', 'DaemonSet name when the resource is given as "ds"')
      .option('--runtime', 'pause or resume at runtime only (a flag in Redis, no commit)');
    withNamespace(cmd);
    withServer(cmd);
    withGitOpsOptions(cmd);
    cmd.action(async (resource: string, nameArg: string | undefined, opts: PauseOptions) => {
      const name = daemonSetName(nameArg === undefined ? [resource] : [resource, nameArg], `rollout ${action}`);
      const paused = action === 'pause';
      const line = `daemonset.apps/${name} ${paused ? 'paused' : 'resumed'}\n`;
      if (opts.runtime) {
        await clientFor(opts).setPaused(opts.namespace, name, paused);
        out(line);
        return;
      }
      const ref = { namespace: opts.namespace, name };
      const request = { paused, dryRun: opts.dryRun === true };
      let result;
      try {
        result = await runChange(ref, opts, (service) => service.setPaused(ref, request), {
          route: 'paused',
          body: request,
        });
      } catch (err) {
        if (!isGitOpsUnavailable(err) || opts.dryRun) throw err;
        await clientFor(opts).setPaused(opts.namespace, name, paused);
        process.stderr.write(
          `warning: the worker does not write to Git; ${paused ? 'paused' : 'resumed'} at runtime only (not recorded in Git)\n`,
        );
        out(line);
        return;
      }
      printChange(result, opts.output);
    });
  }
}
