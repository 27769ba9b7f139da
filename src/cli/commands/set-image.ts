/**
 * `dsctl set image ds/NAME CONTAINER=IMAGE [...] [-n NS] [--dry-run]`: kubectl's set image, as a Git commit that
 * changes only the `image` fields of the named containers (init containers too; `*` means every container) in the
 * DaemonSet's document, comments and formatting kept. Output `daemonset.apps/NAME image updated`; an unknown
 * container is `error: unable to find container named "X" (containers: ...)` (exit 1).
 *
 * Through the worker (`--server`) by default; with `--repo PATH_OR_URL` straight to the repository.
 */
import type { Command } from 'commander';
import { printChange, runChange, withGitOpsOptions, type GitOpsCliOptions } from '../../gitops/cli.js';
import { CliError } from '../errors.js';
import { daemonSetName, parentCommand, withNamespace, withServer } from './common.js';

const CONTAINER = /^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

/** Registers `set image`. */
export function registerSetImage(program: Command): void {
  const cmd = parentCommand(program, 'set', 'set specific features on objects')
    .command('image')
    .description("update the image of a DaemonSet's containers by committing the change to Git")
    .argument('<resource>', 'ds/NAME (or "ds NAME")')
    .argument('<args...>', 'CONTAINER=IMAGE pairs (after NAME when the resource is given as "ds")');
  withNamespace(cmd);
  withServer(cmd);
  withGitOpsOptions(cmd);
  cmd.action(async (resource: string, args: string[], opts: GitOpsCliOptions) => {
    const rest = [...args];
    const resourceArgs = resource.includes('/') ? [resource] : [resource, ...(rest.length > 0 ? [rest.shift()!] : [])];
    const name = daemonSetName(resourceArgs, 'set image');
    const images = parsePairs(rest);
    const ref = { namespace: opts.namespace, name };
    const request = { images, dryRun: opts.dryRun === true };
    const result = await runChange(ref, opts, (service) => service.setImage(ref, request), {
      route: 'image',
      body: request,
    });
    printChange(result, opts.output);
  });
}

function parsePairs(args: readonly string[]): Record<string, string> {
  if (args.length === 0) throw new CliError('set image: at least one CONTAINER=IMAGE is required', 2);
  const images: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const container = eq > 0 ? arg.slice(0, eq) : '';
    const image = eq > 0 ? arg.slice(eq + 1) : '';
    if (!CONTAINER.test(container) || image.trim() === '' || /\s/.test(image)) {
      throw new CliError(`set image: "${arg}" is not CONTAINER=IMAGE`, 2);
    }
    images[container] = image;
  }
  return images;
}
