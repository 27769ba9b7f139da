/**
 * `npm run bench [-- --json] [-- --only=rollout10k,webhook] [-- --concurrency=200]`: dsctl's speed, measured in one run
 * on this machine, each figure beside a baseline measured in the same run where one exists.
 * Targets: ratio ≤ 2.0, webhook p50 ≤ 50 ms, scan ratio ≤ 1.5, rebuild < 10 s, RSS < 250 MB.
 */
import Table from 'cli-table3';
import { cpus, totalmem } from 'node:os';
import { measureRebuild, measureScan } from './git.js';
import { removeTempDirs } from './lib.js';
import { NODE_CONCURRENCY, bullmqFloorMs, measureRollout } from './rollout.js';
import { measureRss } from './rss.js';
import { measureWebhook } from './webhook.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
const want = (name: string) => !only || only.has(name);
const concurrencyArg = args.find((a) => a.startsWith('--concurrency='))?.slice('--concurrency='.length);
const concurrency = concurrencyArg === undefined ? NODE_CONCURRENCY : Number(concurrencyArg);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(`bench: --concurrency must be a positive integer, got ${String(concurrencyArg)}\n`);
  process.exit(2);
}
const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

const round = (n: number, digits = 0) => Number(n.toFixed(digits));
/** Floor and rollout pairs of rollout10k; the median ratio is reported. */
const ROLLOUT_PAIRS = 5;
const result: Record<string, unknown> = {
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
  },
  nodeConcurrency: concurrency,
};

if (want('rollout10k')) {
  // Both sides warm: the floor's first pass (JIT, connections, Redis scripts) is thrown away, as
  // the rollout measured comes after the worker's own first rollout. Five pairs, each rollout
  // beside a floor taken just before it; the median ratio is the figure (this VM is noisy).
  log('rollout10k: raw BullMQ floor, warm-up pass ...');
  await bullmqFloorMs(10_000, concurrency);
  const runs: { ms: number; bullmqFloorMs: number; ratio: number }[] = [];
  for (let i = 1; i <= ROLLOUT_PAIRS; i++) {
    log(`rollout10k ${i}/${ROLLOUT_PAIRS}: raw BullMQ floor, 10,000 no-op jobs ...`);
    const floor = await bullmqFloorMs(10_000, concurrency);
    log(`rollout10k ${i}/${ROLLOUT_PAIRS}: 10,000-node rollout, maxUnavailable 100% ...`);
    const rollout = await measureRollout(10_000, '100%', concurrency);
    runs.push({ ms: round(rollout.ms), bullmqFloorMs: round(floor), ratio: round(rollout.ms / floor, 2) });
  }
  const median = <T>(values: T[], key: (v: T) => number) =>
    [...values].sort((a, b) => key(a) - key(b))[values.length >> 1]!;
  const mid = median(runs, (r) => r.ratio);
  result.rollout10k = { ms: mid.ms, bullmqFloorMs: mid.bullmqFloorMs, ratio: mid.ratio, runs };
  log('rollout500: 500 nodes, maxUnavailable 1 ...');
  const serial = await measureRollout(500, 1);
  result.rollout500 = { ms: round(serial.ms), perNodeMs: round(serial.ms / 500, 2) };
}
if (want('webhook')) {
  log('webhookToJobMs: 50 signed pushes ...');
  const w = await measureWebhook(50);
  result.webhookToJobMs = { p50: w.p50, p99: w.p99 };
}
if (want('scan')) {
  log('scanRatio: one commit in 10 vs 10,000 files ...');
  const s = await measureScan(15);
  result.scanRatio = round(s.ratio, 2);
  result.scan = { smallRepoMs: round(s.smallMs, 1), largeRepoMs: round(s.largeMs, 1) };
}
if (want('rebuild')) {
  log('rebuildMs: 5,000 commits over 50 DaemonSets ...');
  result.rebuildMs = round((await measureRebuild(5000, 50)).ms);
}
if (want('rss')) {
  log('rssMb: worker with 10,000 nodes and 20 DaemonSets (compiled) ...');
  const r = await measureRss(10_000, 20);
  result.rssMb = round(r.rssMb);
  result.rss = {
    atRestMb: round(r.rssMb),
    afterRolloutMb: round(r.afterRolloutMb),
    peakMb: round(r.peakMb),
  };
}
removeTempDirs();

interface BenchResult {
  rollout10k?: { ratio: number };
  webhookToJobMs?: { p50: number };
  scanRatio?: number;
  rebuildMs?: number;
  rssMb?: number;
}
const targets: [string, (r: BenchResult) => number | undefined, string, (v: number) => boolean][] = [
  ['rollout10k ratio', (r) => r.rollout10k?.ratio, '≤ 2.0', (v) => v <= 2.0],
  ['webhook p50 ms', (r) => r.webhookToJobMs?.p50, '≤ 50', (v) => v <= 50],
  ['scan ratio', (r) => r.scanRatio, '≤ 1.5', (v) => v <= 1.5],
  ['rebuild ms', (r) => r.rebuildMs, '< 10000', (v) => v < 10_000],
  ['rss MB', (r) => r.rssMb, '< 250', (v) => v < 250],
];
if (json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const table = new Table({ head: ['measure', 'value', 'target', 'met'] });
  for (const [name, get, target, ok] of targets) {
    const v = get(result as BenchResult);
    if (v !== undefined) table.push([name, String(v), target, ok(v) ? 'yes' : 'NO']);
  }
  console.log(table.toString());
  console.log(JSON.stringify(result, null, 2));
}
process.exit(0);
