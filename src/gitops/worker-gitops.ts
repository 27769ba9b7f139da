/**
 * The worker's side of Git-written changes: a {@link GitOpsService} on its own working clone (separate from the bare
 * read clone), its configured identity and credentials, a Redis lock so replicas write one at a time, a history
 * that has caught up with the branch tip before a rollback is decided, and the follow-ups of a commit (an event, an
 * immediate sync so the normal path rolls it out).
 *
 * Pause: committed as the `dsctl.dev/paused` annotation; when the remote refuses the push the worker applies its
 * runtime pause instead and says so (a brake must work even on a read-only remote). Resume commits the removal and
 * also lifts a runtime pause.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EventView } from '../domain/views.js';
import type { DaemonSetRecord, HistoryStore } from '../revision/store.js';
import type { SyncTrigger } from '../worker/control-plane.js';
import { hashTag } from '../worker/keys.js';
import { GitPushRejectedError, GitWriteError } from './errors.js';
import { GitWriter, sshCommandForKey, worktreeDir, type GitIdentity } from './git-writer.js';
import { GitOpsService } from './service.js';
import type {
  ChangeResult,
  DaemonSetKey,
  GitOpsApi,
  RollbackRequest,
  SetImageRequest,
  SetPausedRequest,
} from './types.js';

export interface WorkerGitOpsOptions {
  /** The watched repository, branch and path (as the worker's `--repo`, `--branch`, `--path`). */
  readonly repo: string;
  readonly branch: string;
  readonly path: string;
  readonly dataDir: string;
  readonly identity: GitIdentity;
  readonly token?: string;
  readonly sshKey?: string;
  readonly sshCommand?: string;
  readonly redis: Redis;
  readonly prefix: string;
  readonly store: HistoryStore;
  readonly logger: Logger;
  requestSync(trigger: SyncTrigger): Promise<void>;
  /** The runtime pause (Redis flag) of the control plane; false when the DaemonSet is unknown. */
  runtimePause(ref: DaemonSetKey, paused: boolean): Promise<boolean>;
  isRuntimePaused(key: string): Promise<boolean>;
  recordEvent(key: string, event: Omit<EventView, 'ts'>): Promise<void>;
  /** How long a rollback waits for the history to reach the branch tip. @defaultValue 15000 */
  readonly catchUpTimeoutMs?: number;
  /** Test seam of the writer (see {@link GitWriterOptions.beforePush}). */
  readonly beforePush?: (attempt: number) => Promise<void>;
}

/** How long the cross-replica write lock lives without release (a crashed holder). */
const WRITE_LOCK_TTL_MS = 120_000;
/** How long a write waits for the lock. */
const WRITE_LOCK_WAIT_MS = 90_000;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The `GIT_SSH_COMMAND` for the configured key or command, if any. */
export function sshCommandOf(options: { sshKey?: string; sshCommand?: string }): string | undefined {
  return options.sshKey ? sshCommandForKey(options.sshKey) : options.sshCommand;
}

export class WorkerGitOps implements GitOpsApi {
  readonly service: GitOpsService;
  readonly writer: GitWriter;
  private readonly lockKey: string;

  constructor(private readonly options: WorkerGitOpsOptions) {
    this.lockKey = `${hashTag(options.prefix)}:lock:git-write`;
    const sshCommand = sshCommandOf(options);
    this.writer = new GitWriter({
      url: options.repo,
      branch: options.branch,
      dir: worktreeDir(options.dataDir, options.repo, options.branch),
      identity: options.identity,
      ...(options.token ? { token: options.token } : {}),
      ...(sshCommand ? { sshCommand } : {}),
      lock: (fn) => this.withLock(fn),
      ...(options.beforePush ? { beforePush: options.beforePush } : {}),
    });
    this.service = new GitOpsService({
      writer: this.writer,
      path: options.path === '.' ? '' : options.path,
      history: (key) => this.freshRecord(key),
    });
  }

  async rollback(ref: DaemonSetKey, request: RollbackRequest): Promise<ChangeResult> {
    const result = await this.service.rollback(ref, request);
    await this.followUp(ref, result, 'RolledBack');
    return result;
  }

  async setImage(ref: DaemonSetKey, request: SetImageRequest): Promise<ChangeResult> {
    const result = await this.service.setImage(ref, request);
    await this.followUp(ref, result, 'ImageUpdated');
    return result;
  }

  async setPaused(ref: DaemonSetKey, request: SetPausedRequest): Promise<ChangeResult> {
    const key = `${ref.namespace}/${ref.name}`;
    let result: ChangeResult;
    try {
      result = await this.service.setPaused(ref, request);
    } catch (err) {
      if (!(err instanceof GitPushRejectedError) || !request.paused || request.dryRun) throw err;
      if (!(await this.options.runtimePause(ref, true))) throw err;
      this.options.logger.warn({ daemonSet: key, reason: err.reason }, 'pause not committed; runtime pause instead');
      return {
        outcome: 'runtime',
        message: `daemonset.apps/${ref.name} paused`,
        warnings: [
          `the pause could not be committed to ${err.displayUrl} (${err.reason}); the rollout is paused at runtime ` +
            'only, which is not recorded in Git. To record it, add the annotation dsctl.dev/paused: "true" by hand.',
        ],
      };
    }
    await this.followUp(ref, result, request.paused ? 'PausedInGit' : 'ResumedInGit');
    if (!request.paused && !request.dryRun && (await this.options.isRuntimePaused(key))) {
      await this.options.runtimePause(ref, false);
      if (result.outcome === 'skipped') {
        return { ...result, outcome: 'runtime', message: `daemonset.apps/${ref.name} resumed` };
      }
    }
    return result;
  }

  /** After a commit: an event on the DaemonSet and a sync at once, so the change rolls out without waiting for a poll. */
  private async followUp(ref: DaemonSetKey, result: ChangeResult, reason: string): Promise<void> {
    if (result.outcome !== 'committed' || result.commit === undefined) return;
    const key = `${ref.namespace}/${ref.name}`;
    const subject = (result.commitMessage ?? '').split('\n', 1)[0] ?? '';
    this.options.logger.info({ daemonSet: key, commit: result.commit, attempts: result.attempts }, subject);
    await this.options.recordEvent(key, {
      type: 'Normal',
      reason,
      message: `commit ${result.commit.slice(0, 7)} pushed: ${subject}`,
      from: 'dsctl-gitops',
    });
    await this.options.requestSync({ reason: 'api', commit: result.commit });
  }

  /**
   * The DaemonSet's record once the store has processed the branch tip (a sync is requested and awaited), so a
   * rollback is decided on the newest history; after the timeout, the record as it is.
   */
  private async freshRecord(key: string): Promise<DaemonSetRecord | undefined> {
    let tip: string | undefined;
    try {
      tip = await this.writer.remoteTip();
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'cannot read the branch tip; using the stored history');
    }
    if (tip !== undefined && (await this.options.store.getCursor()) !== tip) {
      await this.options.requestSync({ reason: 'api', commit: tip });
      const deadline = Date.now() + (this.options.catchUpTimeoutMs ?? 15_000);
      while ((await this.options.store.getCursor()) !== tip && Date.now() < deadline) await sleep(100);
    }
    return this.options.store.getDaemonSet(key);
  }

  /** One Git write at a time across replicas (they may share the data dir, and always share the remote). */
  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const token = randomUUID();
    const deadline = Date.now() + WRITE_LOCK_WAIT_MS;
    const { redis } = this.options;
    while ((await redis.set(this.lockKey, token, 'PX', WRITE_LOCK_TTL_MS, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new GitWriteError('another replica has been writing to Git for too long');
      await sleep(100 + Math.floor(Math.random() * 100));
    }
    try {
      return await fn();
    } finally {
      await redis.eval(RELEASE, 1, this.lockKey, token);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
