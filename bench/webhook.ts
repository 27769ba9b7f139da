/**
 * webhookToJobMs: a signed GitHub push webhook to the first node job started (the first pod
 * transition of the new revision in the fleet's timeline), over `pushes` pushes.
 */
import { createHmac } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadWorkerConfig } from '../src/config/worker-config.js';
import { parseManifests } from '../src/manifest/index.js';
import { createLogger } from '../src/observability/logger.js';
import { templateHash } from '../src/revision/hash.js';
import { startWorker } from '../src/worker/main.js';
import {
  REDIS_URL,
  benchPrefix,
  cleanupPrefix,
  commit,
  daemonSet,
  makeRepo,
  percentile,
  tempDir,
  waitFor,
} from './lib.js';

const SECRET = 'bench-secret';

/** The revision (template hash) of a one-DaemonSet manifest. */
function revisionOf(manifest: string): string {
  return templateHash(parseManifests(manifest).daemonSets[0]!.spec!.template);
}

/** Whether the worker's DaemonSet `agent` runs `revision` on all 5 nodes, available. */
async function rolledOut(url: string, revision: string): Promise<boolean> {
  const v = (await (await fetch(`${url}/api/v1/namespaces/default/daemonsets/agent`)).json()) as {
    status?: { updateRevision: string; updatedNumberScheduled: number; numberAvailable: number };
  };
  return (
    v.status?.updateRevision === revision && v.status.updatedNumberScheduled === 5 && v.status.numberAvailable === 5
  );
}

export async function measureWebhook(pushes = 50): Promise<{ p50: number; p99: number; samples: number[] }> {
  const prefix = benchPrefix('webhook');
  const repo = makeRepo({ 'agent.yaml': daemonSet('agent', 'registry.example/agent:0') });
  const config = loadWorkerConfig(
    {
      repo,
      dataDir: tempDir('data'),
      redis: REDIS_URL,
      prefix,
      listen: '127.0.0.1:0',
      fleet: 'sim:5',
      simStartDelay: '0ms',
      pollInterval: '1h',
      webhookSecret: SECRET,
      logLevel: 'warn',
    },
    {},
  );
  const worker = await startWorker(config, createLogger({ level: 'warn', name: 'bench' }));
  const redis = new Redis(REDIS_URL);
  const samples: number[] = [];
  try {
    // The first push too starts from a settled worker: its start-up sync and first rollout done.
    const initial = revisionOf(daemonSet('agent', 'registry.example/agent:0'));
    await waitFor('initial rollout', () => rolledOut(worker.url, initial), 60_000, 50);
    let lastId: string | undefined;
    for (let i = 1; i <= pushes; i++) {
      const manifest = daemonSet('agent', `registry.example/agent:${i}`);
      const sha = commit(repo, { 'agent.yaml': manifest }, `agent ${i}`);
      const revision = revisionOf(manifest);
      const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { full_name: 'bench/repo' } });
      const sentAt = Date.now();
      const res = await fetch(`${worker.url}/hooks/github`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': `bench-${prefix}-${i}`,
          'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        },
      });
      if (res.status !== 202) throw new Error(`bench: webhook answered ${res.status}: ${await res.text()}`);
      const first = await waitFor(
        `first node job of push ${i}`,
        async () => {
          const query = lastId ? `afterId=${lastId}` : `sinceTs=${sentAt - 1000}`;
          const entries = (await (await fetch(`${worker.url}/api/v1/sim/timeline?${query}`)).json()) as {
            id: string;
            ts: number;
            revision: string;
            event: string;
          }[];
          return entries.find((e) => e.revision === revision);
        },
        30_000,
        // The time comes from the timeline, not from when the bench notices: poll gently, since
        // every poll is work for the worker's event loop (the worker runs in this process).
        25,
      );
      samples.push(first.ts - sentAt);
      // Let this rollout finish, so every push starts from a settled fleet.
      await waitFor(`rollout of push ${i}`, () => rolledOut(worker.url, revision), 30_000, 10);
      const all = (await (await fetch(`${worker.url}/api/v1/sim/timeline?sinceTs=${sentAt - 1000}`)).json()) as {
        id: string;
      }[];
      lastId = all.at(-1)?.id ?? lastId;
    }
  } finally {
    await worker.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples };
}
