/**
 * The worker's configuration: every flag once, with its env twin and default. `loadWorkerConfig`
 * lists every problem and then fails, or returns a frozen config. The only reader of process.env
 * for the worker is the caller that passes `env` in.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

export interface WorkerConfig {
  repo: string;
  branch: string;
  path: string;
  dataDir: string;
  pollIntervalMs: number;
  redisUrl: string;
  prefix: string;
  listenHost: string;
  listenPort: number;
  fleet: { kind: 'sim'; nodes: number };
  simStartDelayMs: number;
  simFailImage?: string;
  webhookSecret?: string;
  webhookRepo?: string;
  token?: string;
  prune: boolean;
  logLevel: string;
  nodeConcurrency: number;
  lockDurationMs: number;
  /** Committer of the commits the worker writes (rollback, set image, pause, auto-rollback). */
  gitAuthorName: string;
  gitAuthorEmail: string;
  /** HTTPS token for fetch and push, sent as an `http.extraHeader` (never in a URL or a log). */
  gitToken?: string;
  /** SSH private key for fetch and push (`ssh -i PATH -o IdentitiesOnly=yes`). */
  sshKey?: string;
  /** Full `GIT_SSH_COMMAND`, when no `sshKey` is given. */
  gitSshCommand?: string;
}

/** Flag name → env twin. */
export const ENV_TWINS: Record<string, string> = {
  repo: 'DSCTL_REPO',
  branch: 'DSCTL_BRANCH',
  path: 'DSCTL_PATH',
  dataDir: 'DSCTL_DATA_DIR',
  pollInterval: 'DSCTL_POLL_INTERVAL',
  redis: 'REDIS_URL',
  prefix: 'DSCTL_PREFIX',
  listen: 'DSCTL_LISTEN',
  fleet: 'DSCTL_FLEET',
  simStartDelay: 'DSCTL_SIM_START_DELAY',
  simFailImage: 'DSCTL_SIM_FAIL_IMAGE',
  webhookSecret: 'DSCTL_WEBHOOK_SECRET',
  webhookRepo: 'DSCTL_WEBHOOK_REPO',
  token: 'DSCTL_TOKEN',
  logLevel: 'DSCTL_LOG_LEVEL',
  nodeConcurrency: 'DSCTL_NODE_CONCURRENCY',
  lockDuration: 'DSCTL_LOCK_DURATION',
  gitAuthorName: 'DSCTL_GIT_AUTHOR_NAME',
  gitAuthorEmail: 'DSCTL_GIT_AUTHOR_EMAIL',
  gitToken: 'DSCTL_GIT_TOKEN',
  sshKey: 'DSCTL_SSH_KEY',
  gitSshCommand: 'GIT_SSH_COMMAND',
};

const duration = z.string().transform((s, ctx) => {
  try {
    return parseDuration(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const schema = z.object({
  repo: z.string({ error: 'is required (--repo PATH_OR_URL or DSCTL_REPO)' }).min(1, 'is required'),
  branch: z.string().default('main'),
  path: z.string().default('.'),
  dataDir: z.string().default('.dsctl'),
  pollInterval: duration.default(60_000),
  redis: z.string().default('redis://127.0.0.1:6379'),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'may hold letters, digits, _ . - only')
    .default('dsctl'),
  listen: z
    .string()
    .regex(/^(.+):(\d+)$/, 'must be HOST:PORT')
    .default('0.0.0.0:8080'),
  fleet: z
    .string()
    .regex(/^sim:\d+$/, 'must be sim:N (the only driver so far)')
    .default('sim:5'),
  simStartDelay: duration.default(2000),
  simFailImage: z.string().optional(),
  webhookSecret: z.string().min(1).optional(),
  webhookRepo: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  prune: z.boolean().default(true),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  nodeConcurrency: z.coerce.number().int().positive().default(50),
  lockDuration: duration.default(10_000),
  gitAuthorName: z
    .string()
    .regex(/^[^<>\n\r]+$/, 'must not contain <, > or line breaks')
    .default('dsctl'),
  gitAuthorEmail: z
    .string()
    .regex(/^[^\s<>@]+@[^\s<>@]+$/, 'must look like an email address')
    .default('dsctl@localhost'),
  gitToken: z.string().min(1).optional(),
  sshKey: z.string().min(1).optional(),
  gitSshCommand: z.string().min(1).optional(),
});

export type WorkerFlags = Partial<Record<keyof z.input<typeof schema>, unknown>>;

/** Flags win over env twins, which win over defaults. */
export function loadWorkerConfig(flags: WorkerFlags, env: NodeJS.ProcessEnv): WorkerConfig {
  const merged: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(ENV_TWINS)) {
    const value = flags[key as keyof WorkerFlags] ?? env[envName];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  if (flags.prune !== undefined) merged.prune = flags.prune;
  else if (env.DSCTL_PRUNE !== undefined) merged.prune = env.DSCTL_PRUNE !== 'false';
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `--${String(i.path[0] ?? '?').replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ${i.message}`,
    );
    throw new Error(`invalid worker configuration:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  const [, host, port] = /^(.+):(\d+)$/.exec(c.listen)!;
  return Object.freeze({
    repo: c.repo,
    branch: c.branch,
    path: c.path,
    dataDir: c.dataDir,
    pollIntervalMs: c.pollInterval,
    redisUrl: c.redis,
    prefix: c.prefix,
    listenHost: host!,
    listenPort: Number(port),
    fleet: { kind: 'sim' as const, nodes: Number(c.fleet.slice(4)) },
    simStartDelayMs: c.simStartDelay,
    simFailImage: c.simFailImage,
    webhookSecret: c.webhookSecret,
    webhookRepo: c.webhookRepo,
    token: c.token,
    prune: c.prune,
    logLevel: c.logLevel,
    nodeConcurrency: c.nodeConcurrency,
    lockDurationMs: c.lockDuration,
    gitAuthorName: c.gitAuthorName,
    gitAuthorEmail: c.gitAuthorEmail,
    gitToken: c.gitToken,
    sshKey: c.sshKey,
    gitSshCommand: c.gitSshCommand,
  });
}
