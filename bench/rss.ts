/**
 * rssMb: resident memory of a worker process (the compiled CLI, as deployed) with a 10,000-node
 * fleet and 20 DaemonSets, all rolled out and then updated once, measured at rest: 45 to 60 s
 * after the last rollout (V8 keeps the heap it grew during the rollouts until its memory reducer
 * runs, some 20 to 30 s after activity calms). Also reported: RSS 2 s after the last rollout, and
 * the peak during the rollouts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { DaemonSetView } from '../src/domain/views.js';
import { REDIS_URL, benchPrefix, cleanupPrefix, commit, daemonSet, makeRepo, sleep, tempDir, waitFor } from './lib.js';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export async function measureRss(
  nodes = 10_000,
  daemonSets = 20,
): Promise<{ rssMb: number; afterRolloutMb: number; peakMb: number }> {
  const root = join(import.meta.dirname, '..');
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('bench: run "npm run build" first (rssMb measures the compiled worker)');
  const files: Record<string, string> = {};
  for (let i = 0; i < daemonSets; i++) files[`ds-${i}.yaml`] = daemonSet(`ds-${i}`, 'registry.example/agent:1', '100%');
  const repo = makeRepo(files);
  const prefix = benchPrefix('rss');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [
      main,
      'worker',
      '--repo',
      repo,
      '--data-dir',
      tempDir('data'),
      '--prefix',
      prefix,
      '--fleet',
      `sim:${nodes}`,
      '--sim-start-delay',
      '0ms',
      '--poll-interval',
      '1h',
      '--listen',
      `127.0.0.1:${port}`,
      '--log-level',
      'warn',
    ],
    { env: { PATH: process.env.PATH ?? '', REDIS_URL }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const redis = new Redis(REDIS_URL);
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(child.pid!));
    } catch {
      // exited
    }
  }, 100);
  const allRolledOut = async (revision: number) => {
    const res = await fetch(`${url}/api/v1/daemonsets`).catch(() => undefined);
    if (!res?.ok) return false;
    const list = (await res.json()) as DaemonSetView[];
    return (
      list.length === daemonSets &&
      list.every(
        (v) =>
          v.status.updateRevisionNumber === revision &&
          v.status.updatedNumberScheduled === nodes &&
          v.status.numberAvailable === nodes,
      )
    );
  };
  try {
    await waitFor('20 DaemonSets on 10,000 nodes', () => allRolledOut(1), 900_000, 500);
    for (let i = 0; i < daemonSets; i++)
      files[`ds-${i}.yaml`] = daemonSet(`ds-${i}`, 'registry.example/agent:2', '100%');
    commit(repo, files, 'update all');
    await fetch(`${url}/api/v1/sync`, { method: 'POST' });
    await waitFor('20 rollouts', () => allRolledOut(2), 900_000, 500);
    const done = performance.now();
    await sleep(2000);
    const afterRolloutMb = rssMb(child.pid!);
    // At rest: the median of the samples taken 45 to 60 s after the last rollout.
    const samples: number[] = [];
    await sleep(43_000);
    while (performance.now() - done < 60_000) {
      samples.push(rssMb(child.pid!));
      await sleep(1000);
    }
    samples.sort((x, y) => x - y);
    return {
      rssMb: samples[Math.floor(samples.length / 2)]!,
      afterRolloutMb,
      peakMb: peak,
    };
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await cleanupPrefix(redis, prefix);
    await redis.quit();
  }
}
