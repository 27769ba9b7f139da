/**
 * `dsctl describe ds NAME [-n NS]` (also `describe ds/NAME`, and `describe ds` for every DaemonSet of the namespace):
 * kubectl's describe layout (daemonset-semantics.md §12.2), from the DaemonSet, its pods and its events.
 */
import type { Command } from 'commander';
import type { ApiClient } from '../client.js';
import { describeDaemonSet } from '../print/daemonset.js';
import { clientFor, out, parseResource, withNamespace, withServer, type ServerOptions } from './common.js';

interface DescribeOptions extends ServerOptions {
  namespace: string;
}

/** Registers `describe`. */
export function registerDescribe(program: Command): void {
  const cmd = program
    .command('describe')
    .description('show details of a DaemonSet (describe ds NAME)')
    .argument('<type>', 'ds|daemonset, or ds/NAME')
    .argument('[name]', 'DaemonSet name');
  withNamespace(cmd);
  withServer(cmd);
  cmd.action(async (type: string, name: string | undefined, opts: DescribeOptions) => {
    const ref = parseResource(name === undefined ? [type] : [type, name], ['daemonset'], {
      verb: 'describe',
      nameRequired: false,
    });
    const client = clientFor(opts);
    if (ref.name !== undefined) {
      out(await describeOne(client, opts.namespace, ref.name));
      return;
    }
    const all = await client.listDaemonSets(opts.namespace);
    if (all.length === 0) {
      process.stderr.write(`No resources found in ${opts.namespace} namespace.\n`);
      return;
    }
    const names = all.map((d) => d.metadata.name).sort();
    const texts: string[] = [];
    for (const n of names) texts.push(await describeOne(client, opts.namespace, n));
    // kubectl separates several objects with two blank lines.
    out(texts.join('\n\n'));
  });
}

/** The describe text of one DaemonSet. */
export async function describeOne(client: ApiClient, namespace: string, name: string): Promise<string> {
  const ds = await client.getDaemonSet(namespace, name);
  const [pods, events] = await Promise.all([
    client.listPods({ namespace, daemonSet: name }),
    client.events(namespace, name),
  ]);
  // The owner check keeps the count right whatever the server's daemonSet filter means (name or namespace/name).
  const own = pods.filter((p) => p.daemonSet === `${namespace}/${name}`);
  return describeDaemonSet(ds, own, events, Date.now());
}
