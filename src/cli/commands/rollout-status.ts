/**
 * `dsctl rollout status ds/NAME [-n NS] [--watch=true|false] [--timeout=5m] [--interval=1s]`: kubectl's rollout
 * status for DaemonSets (daemonset-semantics.md §12.3), by polling the worker API. A line is printed every time the
 * observed DaemonSet changes; exit 0 once rolled out, 1 on timeout, OnDelete, or an exceeded progress deadline.
 */
import { Command } from 'commander';
import type { DaemonSetView } from '../../domain/views.js';
import { CliError } from '../errors.js';
import { parseDuration } from '../print/duration.js';
import { estimateEtaSeconds, RolloutProgressView, type ProgressSample } from '../print/rollout-progress.js';
import {
  clientFor,
  daemonSetName,
  parseBool,
  rolloutCommand,
  withNamespace,
  withServer,
  type ServerOptions,
} from './common.js';

interface RolloutStatusOptions extends ServerOptions {
  namespace: string;
  watch: boolean;
  timeout: string;
  interval: string;
  revision?: string;
}

/** What one observation of a DaemonSet means for `rollout status`. */
export type RolloutStatusVerdict =
  { kind: 'waiting'; message: string } | { kind: 'done'; message: string } | { kind: 'error'; message: string };

/**
 * kubectl's DaemonSetStatusViewer, plus dsctl's progress deadline: OnDelete → error; `generation > observedGeneration`
 * → waiting for the spec; a `Progressing=False/ProgressDeadlineExceeded` condition → error; then updated, then
 * available, then done.
 */
export function rolloutStatusVerdict(ds: DaemonSetView): RolloutStatusVerdict {
  const name = ds.metadata.name;
  const type = ds.spec.updateStrategy?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') {
    return { kind: 'error', message: 'rollout status is only available for RollingUpdate strategy type' };
  }
  const s = ds.status;
  if (ds.metadata.generation > s.observedGeneration) {
    return { kind: 'waiting', message: 'Waiting for daemon set spec update to be observed...' };
  }
  const deadline = (s.conditions ?? []).find(
    (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (deadline !== undefined) {
    return { kind: 'error', message: `daemon set "${name}" exceeded its progress deadline: ${deadline.message}` };
  }
  if (s.updatedNumberScheduled < s.desiredNumberScheduled) {
    return {
      kind: 'waiting',
      message: `Waiting for daemon set "${name}" rollout to finish: ${s.updatedNumberScheduled} out of ${s.desiredNumberScheduled} new pods have been updated...`,
    };
  }
  if (s.numberAvailable < s.desiredNumberScheduled) {
    return {
      kind: 'waiting',
      message: `Waiting for daemon set "${name}" rollout to finish: ${s.numberAvailable} of ${s.desiredNumberScheduled} updated pods are available...`,
    };
  }
  return { kind: 'done', message: `daemon set "${name}" successfully rolled out` };
}

/** The parts of a DaemonSet whose change counts as "the object changed" (kubectl prints on every change). */
function fingerprint(ds: DaemonSetView): string {
  return JSON.stringify([ds.metadata.generation, ds.spec.updateStrategy, ds.status]);
}

/** Registers `rollout status`. */
export function registerRolloutStatus(program: Command): void {
  const cmd = rolloutCommand(program)
    .command('status')
    .description('watch the rollout of a DaemonSet until it completes')
    .argument('<resource>', 'ds/NAME (or "ds NAME")')
    .argument('[name]', 'DaemonSet name when the resource is given as "ds"')
    .option(
      '-w, --watch [bool]',
      'watch until the rollout completes (--watch=false prints once)',
      parseBool('--watch'),
      true,
    )
    .option('--timeout <duration>', 'give up after this long, e.g. 5m (0 waits forever)', '0s')
    .option('--interval <duration>', 'how often to poll the worker', '1s')
    .option('--revision <n>', 'ignored for DaemonSets (as in kubectl)');
  withNamespace(cmd);
  withServer(cmd);
  cmd.action(async (resource: string, nameArg: string | undefined, opts: RolloutStatusOptions) => {
    const name = daemonSetName(nameArg === undefined ? [resource] : [resource, nameArg], 'rollout status');
    const timeoutMs = parseDuration(opts.timeout, '--timeout');
    const intervalMs = Math.max(parseDuration(opts.interval, '--interval'), 50);
    await rolloutStatus(name, opts, timeoutMs, intervalMs);
  });
}

async function rolloutStatus(
  name: string,
  opts: RolloutStatusOptions,
  timeoutMs: number,
  intervalMs: number,
): Promise<void> {
  const client = clientFor(opts);
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  const view = new RolloutProgressView(process.stdout, opts.watch && process.stdout.isTTY === true);
  const samples: ProgressSample[] = [];
  let last: string | undefined;
  try {
    for (;;) {
      const ds = await client.getDaemonSet(opts.namespace, name);
      const verdict = rolloutStatusVerdict(ds);
      if (verdict.kind === 'error') throw new CliError(verdict.message, 1);
      const fp = fingerprint(ds);
      if (fp !== last) {
        last = fp;
        const s = ds.status;
        samples.push({ t: Date.now(), done: Math.min(s.updatedNumberScheduled, s.numberAvailable) });
        if (verdict.kind === 'done') {
          view.stop();
          process.stdout.write(`${verdict.message}\n`);
          return;
        }
        view.line(verdict.message);
        view.progress(
          s.updatedNumberScheduled,
          s.desiredNumberScheduled,
          s.numberAvailable,
          estimateEtaSeconds(samples, s.desiredNumberScheduled),
        );
      }
      if (!opts.watch) return;
      const now = Date.now();
      if (now >= deadline) throw new CliError('timed out waiting for the condition', 1);
      await sleep(Math.min(intervalMs, deadline - now));
      if (Date.now() >= deadline) {
        // One last look, so a rollout finishing right at the deadline still succeeds.
        const final = rolloutStatusVerdict(await client.getDaemonSet(opts.namespace, name));
        if (final.kind === 'done') {
          view.stop();
          process.stdout.write(`${final.message}\n`);
          return;
        }
        throw new CliError('timed out waiting for the condition', 1);
      }
    }
  } finally {
    view.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
