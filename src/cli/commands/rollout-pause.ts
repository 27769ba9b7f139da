/**
 * `dsctl rollout pause|resume ds/NAME [-n NS]`: stops or restarts node updates of a DaemonSet through the worker API
 * (a runtime pause; the `dsctl.dev/paused` annotation in Git pauses too). kubectl has no pause for DaemonSets; the
 * wording follows kubectl's for Deployments: `daemonset.apps/NAME paused`.
 */
import type { Command } from 'commander';
import {
  clientFor,
  daemonSetName,
  out,
  rolloutCommand,
  withNamespace,
  withServer,
  type ServerOptions,
} from './common.js';

interface PauseOptions extends ServerOptions {
  namespace: string;
}

/** Registers `rollout pause` and `rollout resume`. */
export function registerRolloutPause(program: Command): void {
  for (const action of ['pause', 'resume'] as const) {
    const cmd = rolloutCommand(program)
      .command(action)
      .description(action === 'pause' ? 'pause the rollout of a DaemonSet' : 'resume a paused rollout')
      .argument('<resource>', 'ds/NAME (or "ds NAME")')
      .argument('[name]', 'DaemonSet name when the resource is given as "ds"');
    withNamespace(cmd);
    withServer(cmd);
    cmd.action(async (resource: string, nameArg: string | undefined, opts: PauseOptions) => {
      const name = daemonSetName(nameArg === undefined ? [resource] : [resource, nameArg], `rollout ${action}`);
      await clientFor(opts).setPaused(opts.namespace, name, action === 'pause');
      out(`daemonset.apps/${name} ${action === 'pause' ? 'paused' : 'resumed'}\n`);
    });
  }
}
