/**
 * `npm start`: the demo on embedded defaults. A local Git repository seeded from
 * manifests-example/, a simulated fleet of 5 nodes, a worker serving the API, and a printed
 * walkthrough. Uses Redis at REDIS_URL (default 127.0.0.1:6379); if none answers and a
 * `redis-server` binary is on the PATH, starts a private one and stops it on exit.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadWorkerConfig } from '../config/worker-config.js';
import { createLogger } from '../observability/logger.js';
import { startWorker } from '../worker/main.js';
import { seedDemoRepository } from './seed-repository.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((ok, fail) => {
      const server = createServer();
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => ok(typeof address === 'object' && address ? address.port : port));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$0"', binary], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function ensureRedis(): Promise<{ url: string; child?: ChildProcess }> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await answers(url)) return { url };
  if (!onPath('redis-server')) {
    console.error(
      `No Redis answers at ${url} and redis-server is not installed: install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL.`,
    );
    process.exit(1);
  }
  const port = await freePort(0);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const privateUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await answers(privateUrl)); i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`Started a private redis-server on ${privateUrl} (stopped when the demo exits).`);
  return { url: privateUrl, child };
}

async function main(): Promise<void> {
  const redis = await ensureRedis();
  const demoDir = resolve(process.env.DSCTL_DEMO_DIR ?? join(root, '.dsctl', 'demo'));
  const repo = join(demoDir, 'repo');
  seedDemoRepository(repo, join(root, 'manifests-example'));
  const port = await freePort(Number(process.env.DSCTL_DEMO_PORT ?? 8080));
  const config = loadWorkerConfig(
    {
      repo,
      dataDir: join(demoDir, 'data'),
      redis: redis.url,
      prefix: process.env.DSCTL_PREFIX ?? 'dsctl-demo',
      listen: `127.0.0.1:${port}`,
      fleet: 'sim:5',
      simStartDelay: '3s',
      simFailImage: process.env.DSCTL_SIM_FAIL_IMAGE ?? ':does-not-exist$',
      pollInterval: '2s',
      logLevel: 'warn',
    },
    {},
  );
  const worker = await startWorker(config, createLogger({ level: 'warn', name: 'dsctl-demo' }));
  const server = worker.url;
  const cli = 'dsctl';
  console.log(`
dsctl demo is running.
  Git repository:  ${repo}
  Worker API:      ${server}   (5 simulated nodes, pods start in 3s; Ctrl-C stops)

Try, in another terminal (the alias points the CLI at this worker):
  alias dsctl='DSCTL_SERVER=${server} ${join(root, 'bin', 'dsctl.js')}'
  ${cli} get ds -A
  ${cli} describe ds filebeat-ds

Roll out a new image, one node at a time (maxUnavailable 1):
  cd ${repo}
  sed -i 's/filebeat:5.6.5-alpine/filebeat:5.6.6-alpine/' filebeat-ds.yaml
  git commit -am "filebeat 5.6.6"
  ${cli} rollout status ds/filebeat-ds

Read the history (from Git, linked to commits):
  ${cli} rollout history ds/filebeat-ds
  ${cli} rollout history ds/filebeat-ds --repo ${repo} --revision 2

Roll back: dsctl writes a commit restoring revision 1's template (comments kept), then rolls it out:
  ${cli} rollout undo ds/filebeat-ds --dry-run
  ${cli} rollout undo ds/filebeat-ds
  git -C ${repo} log -1
  ${cli} rollout status ds/filebeat-ds
  ${cli} rollout history ds/filebeat-ds     # revision 1 is back as revision 3

A broken image stalls at one node and never spreads:
  sed -i 's/filebeat:5.6.[0-9]-alpine/filebeat:does-not-exist/' ${repo}/filebeat-ds.yaml && git -C ${repo} commit -qam broken
  ${cli} get ds filebeat-ds
`);

  const stop = async () => {
    await worker.close().catch(() => undefined);
    redis.child?.kill('SIGTERM');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
