/**
 * `dsctl worker`: the reconciler process. Every flag has an env twin (see config/worker-config.ts).
 */
import type { Command } from 'commander';
import { ENV_TWINS, loadWorkerConfig, type WorkerFlags } from '../../config/worker-config.js';
import { createLogger } from '../../observability/logger.js';
import { startWorker } from '../../worker/main.js';
import { CliError } from '../errors.js';

const SHUTDOWN_GRACE_MS = 10_000;

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the reconciler: poll Git, plan rollouts, run node jobs, serve the API')
    .option('--repo <pathOrUrl>', `Git repository: clone URL or local path (env ${ENV_TWINS.repo})`)
    .option('--branch <name>', `branch to follow (env ${ENV_TWINS.branch}, default main)`)
    .option('--path <dir>', `directory inside the repository (env ${ENV_TWINS.path}, default .)`)
    .option('--data-dir <dir>', `where the clone is kept (env ${ENV_TWINS.dataDir}, default .dsctl)`)
    .option(
      '--poll-interval <duration>',
      `Git poll interval, e.g. 500ms, 5s, 1m (env ${ENV_TWINS.pollInterval}, default 60s)`,
    )
    .option('--redis <url>', `Redis URL (env ${ENV_TWINS.redis}, default redis://127.0.0.1:6379)`)
    .option('--prefix <name>', `key namespace in Redis (env ${ENV_TWINS.prefix}, default dsctl)`)
    .option('--listen <host:port>', `HTTP API address (env ${ENV_TWINS.listen}, default 0.0.0.0:8080)`)
    .option('--fleet <driver>', `fleet driver, sim:N for N simulated nodes (env ${ENV_TWINS.fleet}, default sim:5)`)
    .option('--sim-start-delay <duration>', `simulated pod start time (env ${ENV_TWINS.simStartDelay}, default 2s)`)
    .option('--sim-fail-image <regex>', `images matching never become ready (env ${ENV_TWINS.simFailImage})`)
    .option(
      '--webhook-secret <secret>',
      `secret of push webhooks; unset disables them (env ${ENV_TWINS.webhookSecret})`,
    )
    .option('--webhook-repo <owner/name>', `repository name pushes must come from (env ${ENV_TWINS.webhookRepo})`)
    .option('--token <token>', `bearer token for mutating API calls (env ${ENV_TWINS.token})`)
    .option('--no-prune', 'keep DaemonSets removed from Git instead of deleting their pods')
    .option('--log-level <level>', `fatal|error|warn|info|debug (env ${ENV_TWINS.logLevel}, default info)`)
    .option(
      '--node-concurrency <n>',
      `node jobs one replica runs at once (env ${ENV_TWINS.nodeConcurrency}, default 50)`,
    )
    .option(
      '--lock-duration <duration>',
      `BullMQ job lock; a dead replica's jobs move after it (env ${ENV_TWINS.lockDuration}, default 10s)`,
    )
    .option(
      '--git-author-name <name>',
      `committer of the commits the worker writes (env ${ENV_TWINS.gitAuthorName}, default dsctl)`,
    )
    .option('--git-author-email <email>', `committer email (env ${ENV_TWINS.gitAuthorEmail}, default dsctl@localhost)`)
    .option('--git-token <token>', `HTTPS token for fetch and push; prefer the env ${ENV_TWINS.gitToken}`)
    .option('--ssh-key <path>', `SSH private key for fetch and push (env ${ENV_TWINS.sshKey}; or set GIT_SSH_COMMAND)`)
    .action(async (opts: Record<string, unknown>) => {
      let config;
      try {
        const flags: WorkerFlags = { ...opts, prune: opts.prune === false ? false : undefined } as WorkerFlags;
        config = loadWorkerConfig(flags, process.env);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      const logger = createLogger({ level: config.logLevel as 'info', name: 'dsctl-worker' });
      let handle;
      try {
        handle = await startWorker(config, logger);
      } catch (err) {
        throw new CliError((err as Error).message, 1);
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'shutting down');
          const timer = setTimeout(() => {
            logger.warn('shutdown grace period over; exiting with jobs still active (they will be taken over)');
            process.exit(1);
          }, SHUTDOWN_GRACE_MS);
          timer.unref();
          handle!.close().then(resolve, (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
