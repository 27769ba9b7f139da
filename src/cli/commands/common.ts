/**
 * Pieces every API-backed command shares: the `--server` and `-n/--namespace` options, resource arguments the way
 * kubectl accepts them (`ds/NAME`, `daemonset NAME`, `daemonset.apps/NAME`, …), the shared `rollout` parent command,
 * and output helpers.
 */
import { Command } from 'commander';
import { ApiClient, resolveServer } from '../client.js';
import { CliError } from '../errors.js';

/** Options every API-backed command has. */
export interface ServerOptions {
  server?: string;
}

/** Adds `--server <url>` (env `DSCTL_SERVER`, default http://127.0.0.1:8080). */
export function withServer(cmd: Command): Command {
  return cmd.option(
    '--server <url>',
    'dsctl worker API (env DSCTL_SERVER, default http://127.0.0.1:8080); DSCTL_TOKEN is sent as bearer token',
  );
}

/** Adds `-n, --namespace <ns>` (default `default`, as kubectl without a context). */
export function withNamespace(cmd: Command): Command {
  return cmd.option('-n, --namespace <namespace>', 'namespace', 'default');
}

/** The API client for a command's options. */
export function clientFor(opts: ServerOptions): ApiClient {
  return new ApiClient({ server: resolveServer(opts.server) });
}

/** The kinds of resource the CLI knows. */
export type ResourceKind = 'daemonset' | 'node' | 'pod';

const ALIASES: Readonly<Record<string, ResourceKind>> = {
  ds: 'daemonset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  'daemonset.apps': 'daemonset',
  'daemonsets.apps': 'daemonset',
  no: 'node',
  node: 'node',
  nodes: 'node',
  po: 'pod',
  pod: 'pod',
  pods: 'pod',
};

/** A resource argument: its kind and, when given, its name. */
export interface ResourceRef {
  kind: ResourceKind;
  name?: string;
}

/**
 * Parses `TYPE/NAME`, `TYPE NAME` or `TYPE` as kubectl does. `allowed` lists the kinds the verb supports; a name is
 * required when `nameRequired`. Anything else is bad usage (exit 2).
 */
export function parseResource(
  args: readonly string[],
  allowed: readonly ResourceKind[],
  opts: { verb: string; nameRequired: boolean },
): ResourceRef {
  const [first, ...rest] = args;
  if (first === undefined || first === '') {
    throw new CliError(`${opts.verb}: you must specify the type of resource, e.g. ds/NAME`, 2);
  }
  const slash = first.indexOf('/');
  const typeText = (slash >= 0 ? first.slice(0, slash) : first).toLowerCase();
  let name = slash >= 0 ? first.slice(slash + 1) : rest.shift();
  if (slash >= 0 && name === '') throw new CliError(`${opts.verb}: "${first}" has an empty name: use TYPE/NAME`, 2);
  if (slash >= 0 && rest.length > 0) {
    throw new CliError(
      `${opts.verb}: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form`,
      2,
    );
  }
  if (rest.length > 0) throw new CliError(`${opts.verb}: unexpected arguments: ${rest.join(' ')}`, 2);
  const kind = ALIASES[typeText];
  if (kind === undefined) throw new CliError(`the server doesn't have a resource type "${typeText}"`, 2);
  if (!allowed.includes(kind)) {
    throw new CliError(
      `${opts.verb} does not support ${kind}s (supported: ${allowed.map((k) => `${k}s`).join(', ')})`,
      2,
    );
  }
  if (name !== undefined && name.includes('/')) throw new CliError(`${opts.verb}: invalid name "${name}"`, 2);
  if (opts.nameRequired && (name === undefined || name === '')) {
    throw new CliError(`${opts.verb}: a ${kind} name is required, e.g. ${kind === 'daemonset' ? 'ds' : kind}/NAME`, 2);
  }
  if (name === '') name = undefined;
  return { kind, ...(name === undefined ? {} : { name }) };
}

/** The DaemonSet name of `ds/NAME` or `ds NAME` arguments (exit 2 otherwise). */
export function daemonSetName(args: readonly string[], verb: string): string {
  return parseResource(args, ['daemonset'], { verb, nameRequired: true }).name!;
}

/** Finds or creates the `rollout` parent command, so several files can add subcommands in any order. */
export function rolloutCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'rollout') ??
    program.command('rollout').description('manage the rollout of a DaemonSet')
  );
}

/** Finds or creates a parent command such as `get`, `describe`, `node`. */
export function parentCommand(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/** kubectl's `-o json` layout: 4-space indentation, trailing newline. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 4)}\n`;
}

/** A kubectl `List` of items. */
export function asList(items: readonly unknown[]): { apiVersion: 'v1'; kind: 'List'; items: unknown[] } {
  return { apiVersion: 'v1', kind: 'List', items: [...items] };
}

/** Writes to stdout. */
export function out(text: string): void {
  process.stdout.write(text);
}

/** Parses `true|false` for flags like `--watch=false` (exit 2 on anything else). */
export function parseBool(flag: string): (value: string) => boolean {
  return (value: string) => {
    const v = value.trim().toLowerCase();
    if (v === 'true' || v === '1' || v === 't') return true;
    if (v === 'false' || v === '0' || v === 'f') return false;
    throw new CliError(`invalid value "${value}" for ${flag}: expected true or false`, 2);
  };
}
