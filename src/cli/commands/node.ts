/**
 * Fleet changes through the worker API (the simulated fleet's nodes):
 * - `dsctl node add NAME [--label k=v]... [--taint k=v:Effect]... [--not-ready] [--unschedulable]`
 *   (adds the node, or replaces its labels, taints and flags);
 * - `dsctl node remove NAME`;
 * - `dsctl node ready NAME [--ready=false]`.
 */
import type { Command } from 'commander';
import type { NodeInput } from '../../domain/plan.js';
import type { Taint } from '../../domain/kubernetes.js';
import { CliError } from '../errors.js';
import { clientFor, out, parentCommand, parseBool, withServer, type ServerOptions } from './common.js';

interface NodeAddOptions extends ServerOptions {
  label: string[];
  taint: string[];
  notReady?: boolean;
  unschedulable?: boolean;
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `k=v` → [k, v] (exit 2 otherwise). */
export function parseLabel(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`invalid label "${text}": expected key=value`, 2);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** `key=value:Effect` or `key:Effect` → a taint (exit 2 otherwise). */
export function parseTaint(text: string): Taint {
  const colon = text.lastIndexOf(':');
  const effect = colon < 0 ? '' : text.slice(colon + 1);
  if (colon <= 0 || !EFFECTS.has(effect)) {
    throw new CliError(
      `invalid taint "${text}": expected key=value:Effect or key:Effect, Effect one of NoSchedule, PreferNoSchedule, NoExecute`,
      2,
    );
  }
  const kv = text.slice(0, colon);
  const eq = kv.indexOf('=');
  if (eq === 0) throw new CliError(`invalid taint "${text}": the key is empty`, 2);
  return eq < 0 ? { key: kv, effect } : { key: kv.slice(0, eq), value: kv.slice(eq + 1), effect };
}

function checkNodeName(name: string): string {
  if (!NODE_NAME.test(name)) throw new CliError(`invalid node name "${name}": use a lowercase DNS-style name`, 2);
  return name;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Registers `node add|remove|ready`. */
export function registerNode(program: Command): void {
  const node = parentCommand(program, 'node', 'add, remove or mark nodes of the (simulated) fleet');

  const add = node
    .command('add')
    .description('add a node, or replace its labels, taints and flags')
    .argument('<name>', 'node name')
    .option('--label <key=value>', 'node label (repeatable)', collect, [])
    .option('--taint <key=value:Effect>', 'node taint (repeatable)', collect, [])
    .option('--not-ready', 'add the node NotReady')
    .option('--unschedulable', 'add the node cordoned (SchedulingDisabled)');
  withServer(add);
  add.action(async (name: string, opts: NodeAddOptions) => {
    const input: NodeInput = { name: checkNodeName(name) };
    if (opts.label.length > 0) input.labels = Object.fromEntries(opts.label.map(parseLabel));
    if (opts.taint.length > 0) input.taints = opts.taint.map(parseTaint);
    if (opts.notReady === true) input.ready = false;
    if (opts.unschedulable === true) input.unschedulable = true;
    await clientFor(opts).addNode(input);
    out(`node/${name} added\n`);
  });

  const remove = node.command('remove').alias('rm').description('remove a node').argument('<name>', 'node name');
  withServer(remove);
  remove.action(async (name: string, opts: ServerOptions) => {
    await clientFor(opts).removeNode(name);
    out(`node/${name} removed\n`);
  });

  const ready = node
    .command('ready')
    .description('mark a node Ready (default) or NotReady (--ready=false)')
    .argument('<name>', 'node name')
    .option('--ready [bool]', 'true marks the node Ready, false NotReady', parseBool('--ready'), true);
  withServer(ready);
  ready.action(async (name: string, opts: ServerOptions & { ready: boolean }) => {
    await clientFor(opts).setNodeReady(name, opts.ready);
    out(`node/${name} ${opts.ready ? 'ready' : 'not ready'}\n`);
  });
}
