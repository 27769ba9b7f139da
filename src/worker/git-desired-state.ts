/**
 * {@link DesiredStateReader} over the Git sync's {@link RedisHistoryStore}: the last good manifest
 * and revision of each DaemonSet. Remembers which DaemonSets it has handed out, so one that
 * vanished from Git (pruning on) is reported as deleted until its pods are gone.
 *
 * "Handed out" is marked only while the record still exists (one script): a get that read the
 * record just before Redis lost its data must not mark it in the emptied Redis, or the next get
 * would see "known, no record" and report the DaemonSet deleted: every pod of it would go at once.
 */
import type { Redis } from 'ioredis';
import type { HistoryEntry } from '../domain/views.js';
import { RedisScript } from '../redis/script.js';
import type { RedisHistoryStore } from '../revision/store.js';
import type { DesiredDaemonSet, DesiredStateReader } from './desired-state.js';
import { hashTag } from './keys.js';

/** KEYS[1] the DaemonSet's desired record, KEYS[2] the known set; ARGV[1] "ns/name". */
const MARK_KNOWN = new RedisScript(
  'markKnown',
  `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('SADD', KEYS[2], ARGV[1]) end
return -1`,
);

export class GitDesiredState implements DesiredStateReader {
  private readonly knownKey: string;

  constructor(
    private readonly store: RedisHistoryStore,
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.knownKey = `${hashTag(prefix)}:rollout:known`;
  }

  async list(): Promise<string[]> {
    const [live, known] = await Promise.all([this.store.listDaemonSets(), this.redis.smembers(this.knownKey)]);
    return [...new Set([...live, ...known])].sort();
  }

  async get(key: string): Promise<DesiredDaemonSet | undefined> {
    const record = await this.store.getDaemonSet(key);
    const [namespace = '', name = ''] = key.split('/');
    if (!record) {
      if ((await this.redis.sismember(this.knownKey, key)) !== 1) return undefined;
      return {
        key,
        namespace,
        name,
        daemonSet: {},
        updateRevision: '',
        updateRevisionNumber: 0,
        generation: 0,
        templateGeneration: 0,
        createdAt: new Date(0).toISOString(),
        errors: [],
        deleted: true,
      };
    }
    await MARK_KNOWN.run(this.redis, [this.store.keys.desired(key), this.knownKey], [key]);
    const revisions = record.history.revisions;
    const current = revisions.at(-1);
    return {
      key,
      namespace,
      name,
      daemonSet: record.desired.daemonSet,
      updateRevision: current?.hash ?? '',
      updateRevisionNumber: current?.revision ?? 0,
      generation: record.history.generation,
      templateGeneration: record.history.templateGeneration,
      createdAt: revisions[0]?.createdBy?.date ?? revisions[0]?.date ?? new Date(0).toISOString(),
      errors: record.errors.map((e) => ({
        commit: e.commit,
        file: e.file,
        line: e.line,
        column: e.column,
        message: e.message,
      })),
      deleted: false,
    };
  }

  async history(key: string): Promise<HistoryEntry[] | undefined> {
    const record = await this.store.getDaemonSet(key);
    if (!record) return undefined;
    return record.history.revisions.map((r) => ({
      revision: r.revision,
      hash: r.hash,
      commit: r.commit,
      author: r.author,
      date: r.date,
      subject: r.subject,
      changeCause: r.changeCause,
      path: r.path,
    }));
  }

  async forget(key: string): Promise<void> {
    await this.redis.srem(this.knownKey, key);
  }

  async sourceCondition(): Promise<{ reason: string; message: string; since: number } | undefined> {
    const status = await this.store.getSourceStatus();
    if (status.failures === 0) return undefined;
    return {
      reason: 'FetchFailed',
      message: `${status.lastError ?? 'fetch failed'} (${status.failures} failures; retrying with backoff)`,
      since: status.lastFailureAt ?? Date.now(),
    };
  }
}
