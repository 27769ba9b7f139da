/**
 * `dsctl get ds|nodes|pods [NAME] [-n NS] [-A] [-o wide|json|yaml]`: kubectl's `get` over the worker API.
 *
 * Tables follow daemonset-semantics.md §12.1 (each column its widest cell plus 3 spaces, kubectl ages). An empty
 * result prints `No resources found in NS namespace.` on stderr and exits 0, as kubectl does.
 */
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import type { NodeInput } from '../../domain/plan.js';
import type { DaemonSetView } from '../../domain/views.js';
import type { FleetPod } from '../../fleet/driver.js';
import { CliError } from '../errors.js';
import { daemonSetHeader, daemonSetRow, formatLabels } from '../print/daemonset.js';
import { age } from '../print/duration.js';
import { formatTable } from '../print/table.js';
import {
  asList,
  clientFor,
  out,
  parseResource,
  toJson,
  withNamespace,
  withServer,
  type ServerOptions,
} from './common.js';

interface GetOptions extends ServerOptions {
  namespace: string;
  allNamespaces?: boolean;
  output?: 'wide' | 'json' | 'yaml';
}

/** Registers `get`. */
export function registerGet(program: Command): void {
  const cmd = program
    .command('get')
    .description('display DaemonSets, nodes or pods (get ds [NAME], get nodes, get pods)')
    .argument('<type>', 'ds|daemonsets|nodes|pods, or TYPE/NAME')
    .argument('[name]', 'name of one resource')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['wide', 'json', 'yaml']));
  withNamespace(cmd);
  withServer(cmd);
  cmd.action(async (type: string, name: string | undefined, opts: GetOptions) => {
    const ref = parseResource(name === undefined ? [type] : [type, name], ['daemonset', 'node', 'pod'], {
      verb: 'get',
      nameRequired: false,
    });
    if (ref.name !== undefined && opts.allNamespaces === true && ref.kind !== 'node') {
      throw new CliError('a resource cannot be retrieved by name across all namespaces', 2);
    }
    if (ref.kind === 'daemonset') await getDaemonSets(ref.name, opts);
    else if (ref.kind === 'node') await getNodes(ref.name, opts);
    else await getPods(ref.name, opts);
  });
}

/** Writes `items` as JSON/YAML (single object when a name was given, else a List). */
function printStructured(items: readonly unknown[], single: boolean, format: 'json' | 'yaml'): void {
  const value = single ? items[0] : asList(items);
  out(format === 'json' ? toJson(value) : stringify(value));
}

function noResources(opts: GetOptions): void {
  process.stderr.write(
    opts.allNamespaces === true ? 'No resources found\n' : `No resources found in ${opts.namespace} namespace.\n`,
  );
}

async function getDaemonSets(name: string | undefined, opts: GetOptions): Promise<void> {
  const client = clientFor(opts);
  let items: DaemonSetView[];
  if (name !== undefined) items = [await client.getDaemonSet(opts.namespace, name)];
  else items = await client.listDaemonSets(opts.allNamespaces === true ? undefined : opts.namespace);
  items.sort((a, b) => cmp(a.metadata.namespace, b.metadata.namespace) || cmp(a.metadata.name, b.metadata.name));
  if (opts.output === 'json' || opts.output === 'yaml') {
    printStructured(items, name !== undefined, opts.output);
    return;
  }
  if (items.length === 0) {
    noResources(opts);
    return;
  }
  const shape = { wide: opts.output === 'wide', namespace: opts.allNamespaces === true };
  const now = Date.now();
  out(formatTable([daemonSetHeader(shape), ...items.map((ds) => daemonSetRow(ds, now, shape))]));
}

/** `Ready`/`NotReady`, plus `,SchedulingDisabled` when cordoned (kubectl's node STATUS). */
export function nodeStatus(node: NodeInput): string {
  return `${node.ready === false ? 'NotReady' : 'Ready'}${node.unschedulable === true ? ',SchedulingDisabled' : ''}`;
}

/** Roles from `node-role.kubernetes.io/<role>` labels, as kubectl shows them; `<none>` without. */
export function nodeRoles(node: NodeInput): string {
  const roles = Object.keys(node.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter((r) => r !== '')
    .sort(cmp);
  return roles.length === 0 ? '<none>' : roles.join(',');
}

/** `key=value:Effect` per taint, joined by `,`; `<none>` without. */
export function nodeTaints(node: NodeInput): string {
  const taints = (node.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  return taints.length === 0 ? '<none>' : taints.join(',');
}

async function getNodes(name: string | undefined, opts: GetOptions): Promise<void> {
  const client = clientFor(opts);
  let nodes = await client.listNodes();
  if (name !== undefined) {
    nodes = nodes.filter((n) => n.name === name);
    if (nodes.length === 0) throw new CliError(`nodes "${name}" not found`);
  }
  nodes.sort((a, b) => cmp(a.name, b.name));
  if (opts.output === 'json' || opts.output === 'yaml') {
    printStructured(nodes, name !== undefined, opts.output);
    return;
  }
  if (nodes.length === 0) {
    process.stderr.write('No resources found\n');
    return;
  }
  const wide = opts.output === 'wide';
  const podsPerNode = new Map<string, number>();
  if (wide) {
    for (const p of await client.listPods()) podsPerNode.set(p.node, (podsPerNode.get(p.node) ?? 0) + 1);
  }
  const header = ['NAME', 'STATUS', 'ROLES', 'TAINTS', ...(wide ? ['PODS', 'LABELS'] : [])];
  const rows = nodes.map((n) => [
    n.name,
    nodeStatus(n),
    nodeRoles(n),
    nodeTaints(n),
    ...(wide ? [String(podsPerNode.get(n.name) ?? 0), formatLabels(n.labels)] : []),
  ]);
  out(formatTable([header, ...rows]));
}

/** kubectl-like pod STATUS: `Terminating` while deleting, else the phase. */
export function podStatus(pod: FleetPod): string {
  return pod.deleting === true ? 'Terminating' : pod.phase;
}

/** `ready/total` containers; a pod's containers are ready together. */
export function podReady(pod: FleetPod): string {
  const total = Math.max(pod.images.length, 1);
  return `${pod.ready ? total : 0}/${total}`;
}

function namespaceOf(pod: FleetPod): string {
  const slash = pod.daemonSet.indexOf('/');
  return slash < 0 ? '' : pod.daemonSet.slice(0, slash);
}

async function getPods(name: string | undefined, opts: GetOptions): Promise<void> {
  const client = clientFor(opts);
  const all = opts.allNamespaces === true;
  let pods = await client.listPods(all ? {} : { namespace: opts.namespace });
  if (!all) pods = pods.filter((p) => namespaceOf(p) === opts.namespace);
  if (name !== undefined) {
    pods = pods.filter((p) => p.name === name);
    if (pods.length === 0) throw new CliError(`pods "${name}" not found in namespace "${opts.namespace}"`);
  }
  pods.sort((a, b) => cmp(namespaceOf(a), namespaceOf(b)) || cmp(a.name, b.name));
  if (opts.output === 'json' || opts.output === 'yaml') {
    printStructured(pods, name !== undefined, opts.output);
    return;
  }
  if (pods.length === 0) {
    noResources(opts);
    return;
  }
  const wide = opts.output === 'wide';
  const now = Date.now();
  const header = [
    ...(all ? ['NAMESPACE'] : []),
    'NAME',
    'READY',
    'STATUS',
    'RESTARTS',
    'AGE',
    ...(wide ? ['NODE', 'REVISION', 'IMAGE'] : []),
  ];
  const rows = pods.map((p) => [
    ...(all ? [namespaceOf(p)] : []),
    p.name,
    podReady(p),
    podStatus(p),
    '0',
    age(p.createdAt, now),
    ...(wide ? [p.node, p.revision, p.images.join(',') || '<none>'] : []),
  ]);
  out(formatTable([header, ...rows]));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
