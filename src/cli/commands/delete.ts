/**
 * `dsctl delete pod NAME [-n NS]` (also `delete pod/NAME`): deletes a DaemonSet pod through the worker API; the
 * reconciler then replaces it (with the update revision, which is how OnDelete rollouts progress).
 */
import type { Command } from 'commander';
import { clientFor, out, parseResource, withNamespace, withServer, type ServerOptions } from './common.js';

interface DeleteOptions extends ServerOptions {
  namespace: string;
}

/** Registers `delete`. */
export function registerDelete(program: Command): void {
  const cmd = program
    .command('delete')
    .description('delete a pod (delete pod NAME)')
    .argument('<type>', 'pod, or pod/NAME')
    .argument('[name]', 'pod name');
  withNamespace(cmd);
  withServer(cmd);
  cmd.action(async (type: string, name: string | undefined, opts: DeleteOptions) => {
    const ref = parseResource(name === undefined ? [type] : [type, name], ['pod'], {
      verb: 'delete',
      nameRequired: true,
    });
    await clientFor(opts).deletePod(opts.namespace, ref.name!);
    out(`pod "${ref.name!}" deleted\n`);
  });
}
