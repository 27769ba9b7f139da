/**
 * Helpers to run real workers in tests: in-process (`startWorker`) or as child processes that a
 * test can SIGKILL, plus DaemonSet manifests and polling of the API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadWorkerConfig, type WorkerFlags } from '../../src/config/worker-config.js';
import type { DaemonSetView } from '../../src/domain/views.js';
import type { TimelineEntry } from '../../src/fleet/driver.js';
import { createLogger } from '../../src/observability/logger.js';
import { startWorker, type WorkerHandle } from '../../src/worker/main.js';
import { TEST_REDIS_URL } from './redis.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface DaemonSetOptions {
  name?: string;
  namespace?: string;
  image?: string;
  maxUnavailable?: number | string;
  maxSurge?: number | string;
  minReadySeconds?: number;
  annotations?: Record<string, string>;
  strategy?: 'RollingUpdate' | 'OnDelete';
}

/** A DaemonSet manifest as a user would write it. */
export function daemonSetYaml(o: DaemonSetOptions = {}): string {
  const name = o.name ?? 'agent';
  const strategy =
    o.strategy === 'OnDelete'
      ? '  updateStrategy:\n    type: OnDelete\n'
      : `  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: ${JSON.stringify(o.maxUnavailable ?? 1)}\n      maxSurge: ${JSON.stringify(o.maxSurge ?? 0)}\n`;
  const annotations = o.annotations
    ? `  annotations:\n${Object.entries(o.annotations)
        .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`)
        .join('')}`
    : '';
  return `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
  namespace: ${o.namespace ?? 'default'}
${annotations}spec:
  selector:
    matchLabels:
      app: ${name}
${strategy}  minReadySeconds: ${o.minReadySeconds ?? 0}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: ${name}
          image: ${o.image ?? 'registry.example/agent:1.0'}
`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** A worker in this process, on a free port, logging nothing. */
export async function startTestWorker(flags: WorkerFlags): Promise<WorkerHandle> {
  const port = await freePort();
  const config = loadWorkerConfig({ listen: `127.0.0.1:${port}`, redis: TEST_REDIS_URL, ...flags }, {});
  return startWorker(config, createLogger({ level: 'silent' }));
}

export interface WorkerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** `dsctl worker` as a child process (so a test can SIGKILL it); resolves once `/healthz` answers. */
export async function spawnWorker(args: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'worker', '--listen', `127.0.0.1:${port}`, ...args],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: TEST_REDIS_URL, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`worker exited early (${child.exitCode}):\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start within 20s:\n${out}`);
    }
    await sleep(100);
  }
  return { url, child, output: () => out, exited };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function getDaemonSet(server: string, ns: string, name: string): Promise<DaemonSetView | undefined> {
  const res = await fetch(`${server}/api/v1/namespaces/${ns}/daemonsets/${name}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET daemonset: ${res.status}`);
  return (await res.json()) as DaemonSetView;
}

export function timeline(server: string): Promise<TimelineEntry[]> {
  return getJson<TimelineEntry[]>(`${server}/api/v1/sim/timeline`);
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** A DaemonSet whose status says the template in Git is rolled out everywhere. */
export function isRolledOut(view: DaemonSetView | undefined, revisionNumber?: number): boolean {
  if (!view) return false;
  const s = view.status;
  return (
    (revisionNumber === undefined || s.updateRevisionNumber === revisionNumber) &&
    s.observedGeneration >= (view.metadata.generation ?? 0) &&
    s.desiredNumberScheduled > 0 &&
    s.updatedNumberScheduled === s.desiredNumberScheduled &&
    s.numberAvailable === s.desiredNumberScheduled
  );
}
