/**
 * CLI test harness: the real HTTP server on 127.0.0.1:0 over a {@link FakeControlPlane}, and the real CLI run as a
 * child process (`node --import tsx src/cli/main.ts ...`) with `DSCTL_SERVER` pointing at it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../../src/http/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { FakeControlPlane } from '../helpers/fake-control-plane.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliServer {
  url: string;
  cp: FakeControlPlane;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts the server on a free loopback port. */
export async function startServer(
  cp = new FakeControlPlane(),
  overrides: Partial<ServerOptions> = {},
): Promise<CliServer> {
  const app = buildServer({
    controlPlane: cp,
    branch: 'main',
    metrics: new Metrics({ collectDefault: false }),
    logger: createLogger({ level: 'silent' }),
    ...overrides,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, cp, app, close: () => app.close() };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `dsctl <args>`; `env` is added to the environment (DSCTL_SERVER/DSCTL_TOKEN are cleared unless given). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const base = { ...process.env };
  delete base['DSCTL_SERVER'];
  delete base['DSCTL_TOKEN'];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...base, ...env, NO_COLOR: '1' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
