/**
 * Output of `rollout status`: the kubectl status lines, and on a terminal a live progress bar under them
 * (`updated/desired` nodes, available nodes, ETA). Off a terminal only the plain lines are written, so logs and tests
 * see exactly kubectl's text.
 */
import cliProgress from 'cli-progress';

/** One observation of a rollout, for {@link estimateEtaSeconds}. */
export interface ProgressSample {
  /** Epoch ms of the observation. */
  t: number;
  /** Nodes whose pod runs the update revision and is available: min(updated, available). */
  done: number;
}

/**
 * Seconds until `desired` nodes are done, from the pace observed so far: the time from the first sample to the last
 * increase of `done`, divided by the nodes finished in that time (so parallel updates under maxUnavailable > 1 count
 * as faster nodes). `null` until one node finished while watching, or when nothing is left.
 */
export function estimateEtaSeconds(samples: readonly ProgressSample[], desired: number): number | null {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined) return null;
  const remaining = desired - last.done;
  if (remaining <= 0) return 0;
  let lastIncrease: ProgressSample | undefined;
  for (let i = 1; i < samples.length; i++) if (samples[i]!.done > samples[i - 1]!.done) lastIncrease = samples[i];
  if (lastIncrease === undefined || lastIncrease.done <= first.done) return null;
  const perNodeMs = (lastIncrease.t - first.t) / (lastIncrease.done - first.done);
  return Math.max(0, Math.round((remaining * perNodeMs) / 1000));
}

/** `1m30s`-style ETA text; `?` when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  if (m < 60) return s === 0 ? `${m}m` : `${m}m${s}s`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60}m`;
}

/** Where `rollout status` writes: plain lines, plus a bar when `tty`. */
export class RolloutProgressView {
  private readonly multibar: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    tty: boolean,
  ) {
    this.multibar = tty
      ? new cliProgress.MultiBar(
          {
            stream,
            format: ' {bar} {value}/{total} nodes updated | {available} available | ETA {etaText}',
            barsize: 30,
            hideCursor: true,
            clearOnComplete: true,
            stopOnComplete: false,
            gracefulExit: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  /** Prints one status line (above the bar on a terminal). */
  line(text: string): void {
    if (this.multibar === undefined) {
      this.stream.write(`${text}\n`);
      return;
    }
    this.multibar.log(`${text}\n`);
    this.multibar.update();
  }

  /** Moves the bar (terminal only). */
  progress(updated: number, desired: number, available: number, etaSeconds: number | null): void {
    if (this.multibar === undefined) return;
    const payload = { available, etaText: formatEta(etaSeconds) };
    if (this.bar === undefined) this.bar = this.multibar.create(Math.max(desired, 1), updated, payload);
    else {
      this.bar.setTotal(Math.max(desired, 1));
      this.bar.update(updated, payload);
    }
  }

  /** Removes the bar, flushing pending lines. Safe to call twice. */
  stop(): void {
    if (this.multibar === undefined) return;
    this.multibar.update();
    this.multibar.stop();
  }
}
