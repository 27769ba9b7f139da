/**
 * Per-DaemonSet rollout bookkeeping in Redis: in-flight node updates (Kubernetes'
 * "expectations"), the last computed status, events, the runtime pause flag and the planning lock.
 *
 * The in-flight hash is what keeps the budget across replicas and crashes: a node with an entry
 * counts as unavailable for planning until its job has seen the new pod available and removed
 * the entry, so no plan can act on state that lags behind jobs already decided.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DaemonSetStatusView, EventView } from '../domain/views.js';
import { RedisScript } from '../redis/script.js';
import { TickBatcher, type BatchOutcome } from '../redis/tick-batcher.js';
import { workerKeys, type WorkerKeys } from './keys.js';

export interface InflightEntry {
  jobId: string;
  revision: string;
  mode: 'replace' | 'create';
  /** Epoch ms the entry was written. */
  since: number;
}

/** Extra bookkeeping stored with the status; not shown by kubectl-shaped output. */
export interface StoredStatus extends DaemonSetStatusView {
  /** Epoch ms of the last change of updated/available counts (progress deadline). */
  lastProgressAt: number;
  /** Epoch ms durations of recent node updates, newest last (ETA). */
  recentNodeMs: number[];
  updatedAt: number;
}

const EVENT_STREAM_MAXLEN = 1000;

// KEYS[1] lock, KEYS[2] inflight hash; ARGV[1] token, ARGV[2] the entries as lines "node\nJSON\n"
// (one string: a 10,000-node plan is one argument, not 20,000). Node names and JSON hold no newline.
// Writes the entries only while the caller still holds the planning lock (fencing).
const COMMIT_PLAN = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local payload, pos, pairs = ARGV[2], 1, {}
while pos <= #payload do
  local nodeEnd = string.find(payload, '\\n', pos, true)
  local jsonEnd = string.find(payload, '\\n', nodeEnd + 1, true)
  pairs[#pairs + 1] = string.sub(payload, pos, nodeEnd - 1)
  pairs[#pairs + 1] = string.sub(payload, nodeEnd + 1, jsonEnd - 1)
  pos = jsonEnd + 1
  if #pairs >= 1000 then
    redis.call('HSET', KEYS[2], unpack(pairs))
    pairs = {}
  end
end
if #pairs > 0 then redis.call('HSET', KEYS[2], unpack(pairs)) end
return 1`;

// KEYS[1] inflight hash, KEYS[2] waiting count, KEYS[3] event stream, KEYS[4] durations list;
// ARGV[1] event stream MAXLEN, ARGV[2] now ms, then per finished node update: node, jobId,
// duration ms or '', the number of events, and 4 values (type, reason, message, from) per event.
// Removes each entry only if it is still that job's; records the events and the durations.
// Returns { { removed (1|0) per update }, entries left, waiting count or false }.
const FINISH_NODE_UPDATES = `
local removed = {}
local i = 3
while i <= #ARGV do
  local node, jobId, duration, events = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local done = 0
  local v = redis.call('HGET', KEYS[1], node)
  if v then
    local ok, entry = pcall(cjson.decode, v)
    if ok and type(entry) == 'table' and entry['jobId'] == jobId then
      redis.call('HDEL', KEYS[1], node)
      done = 1
    end
  end
  removed[#removed + 1] = done
  for e = i + 4, i + 3 + events * 4, 4 do
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], '*',
      'type', ARGV[e], 'reason', ARGV[e + 1], 'message', ARGV[e + 2], 'from', ARGV[e + 3], 'ts', ARGV[2])
  end
  if duration ~= '' then redis.call('RPUSH', KEYS[4], duration) end
  i = i + 4 + events * 4
end
redis.call('LTRIM', KEYS[4], -50, -1)
return { removed, redis.call('HLEN', KEYS[1]), redis.call('GET', KEYS[2]) }`;

// KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. Extends the lock only while the caller holds it.
const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

// KEYS[1] lock; ARGV[1] token.
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const scripts = {
  commitPlan: new RedisScript('commitPlan', COMMIT_PLAN),
  finishNodeUpdates: new RedisScript('finishNodeUpdates', FINISH_NODE_UPDATES),
  renewLock: new RedisScript('renewLock', RENEW_LOCK),
  releaseLock: new RedisScript('releaseLock', RELEASE_LOCK),
};

interface FinishRequest {
  ds: string;
  node: string;
  jobId: string;
  events: Omit<EventView, 'ts'>[];
  durationMs: number | undefined;
}
type FinishResult = { removed: boolean; inflightLeft: number; waiting: number };

/**
 * Runs a batch one DaemonSet at a time (the DaemonSets in parallel): `run` gets that DaemonSet's
 * items in order and gives one outcome each; its error fails those items only.
 */
async function perDaemonSet<In extends { ds: string }, Out>(
  items: readonly In[],
  run: (ds: string, group: In[]) => Promise<BatchOutcome<Out>[]>,
): Promise<BatchOutcome<Out>[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const group = groups.get(item.ds);
    if (group) group.push(i);
    else groups.set(item.ds, [i]);
  });
  const outcomes: BatchOutcome<Out>[] = [];
  await Promise.all(
    [...groups].map(async ([ds, indexes]) => {
      try {
        const results = await run(
          ds,
          indexes.map((i) => items[i]!),
        );
        indexes.forEach((i, k) => (outcomes[i] = results[k] ?? { ok: false, error: new Error('no outcome') }));
      } catch (error) {
        for (const i of indexes) outcomes[i] = { ok: false, error };
      }
    }),
  );
  return outcomes;
}

export class RolloutState {
  readonly keys: WorkerKeys;
  private readonly entries = new TickBatcher((items: { ds: string; node: string }[]) => this.entryBatch(items));
  private readonly finishes = new TickBatcher((items: FinishRequest[]) => this.finishBatch(items));

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = workerKeys(prefix);
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    return (await this.redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' ? token : undefined;
  }

  async releaseLock(key: string, token: string): Promise<void> {
    await scripts.releaseLock.run(this.redis, [key], [token]);
  }

  /**
   * Runs `fn` holding `key`, renewed every ttl/3 while it runs, so a holder killed with SIGKILL
   * blocks others for at most `ttlMs` while a slow but living holder never loses it.
   * Returns 'busy' when another holder has it; `fn` gets the token (for fenced writes).
   */
  async withLock<T>(key: string, ttlMs: number, fn: (token: string) => Promise<T>): Promise<T | 'busy'> {
    const token = await this.acquireLock(key, ttlMs);
    if (!token) return 'busy';
    const renew = setInterval(
      () => void scripts.renewLock.run(this.redis, [key], [token, ttlMs]).catch(() => undefined),
      Math.max(50, Math.floor(ttlMs / 3)),
    );
    try {
      return await fn(token);
    } finally {
      clearInterval(renew);
      await this.releaseLock(key, token);
    }
  }

  async inflight(ds: string): Promise<Map<string, InflightEntry>> {
    const raw = await this.redis.hgetall(this.keys.inflight(ds));
    const out = new Map<string, InflightEntry>();
    for (const [node, json] of Object.entries(raw)) {
      try {
        out.set(node, JSON.parse(json) as InflightEntry);
      } catch {
        // A corrupt entry is ignored: the node then counts by its real state.
      }
    }
    return out;
  }

  /** A node's in-flight entry; the lookups of one tick are one HMGET per DaemonSet. */
  inflightEntry(ds: string, node: string): Promise<InflightEntry | undefined> {
    return this.entries.call({ ds, node });
  }

  private entryBatch(items: { ds: string; node: string }[]): Promise<BatchOutcome<InflightEntry | undefined>[]> {
    return perDaemonSet(items, async (ds, group) => {
      const values = await this.redis.hmget(this.keys.inflight(ds), ...group.map((item) => item.node));
      return values.map((json): BatchOutcome<InflightEntry | undefined> => {
        try {
          return { ok: true, value: json ? (JSON.parse(json) as InflightEntry) : undefined };
        } catch (error) {
          return { ok: false, error };
        }
      });
    });
  }

  /** Records decided node updates, fenced by the planning lock. False when the lock was lost. */
  async commitPlan(ds: string, token: string, entries: Map<string, InflightEntry>): Promise<boolean> {
    if (entries.size === 0) return true;
    let payload = '';
    for (const [node, entry] of entries) {
      if (node.includes('\n')) throw new Error(`in-flight entry: node name ${JSON.stringify(node)} has a newline`);
      payload += `${node}\n${JSON.stringify(entry)}\n`;
    }
    const ok = await scripts.commitPlan.run(
      this.redis,
      [this.keys.planLock(ds), this.keys.inflight(ds)],
      [token, payload],
    );
    return ok === 1;
  }

  async clearInflight(ds: string, nodes: string[]): Promise<void> {
    if (nodes.length > 0) await this.redis.hdel(this.keys.inflight(ds), ...nodes);
  }

  /** Which of these BullMQ job ids still exist (any state). */
  async existingJobs(queue: string, jobIds: string[]): Promise<Set<string>> {
    if (jobIds.length === 0) return new Set();
    const pipeline = this.redis.pipeline();
    for (const id of jobIds) pipeline.exists(this.keys.bullJob(queue, id));
    const results = (await pipeline.exec()) ?? [];
    return new Set(jobIds.filter((_, i) => results[i]?.[1] === 1));
  }

  async status(ds: string): Promise<StoredStatus | undefined> {
    const json = await this.redis.get(this.keys.status(ds));
    return json ? (JSON.parse(json) as StoredStatus) : undefined;
  }

  async statuses(dsKeys: string[]): Promise<(StoredStatus | undefined)[]> {
    if (dsKeys.length === 0) return [];
    const values = await this.redis.mget(...dsKeys.map((k) => this.keys.status(k)));
    return values.map((v) => (v ? (JSON.parse(v) as StoredStatus) : undefined));
  }

  async writeStatus(ds: string, status: StoredStatus): Promise<void> {
    await this.redis.set(this.keys.status(ds), JSON.stringify(status));
  }

  async isPaused(ds: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.paused(ds))) === 1;
  }

  async setPaused(ds: string, paused: boolean): Promise<void> {
    if (paused) await this.redis.set(this.keys.paused(ds), '1');
    else await this.redis.del(this.keys.paused(ds));
  }

  async recordEvent(ds: string, event: Omit<EventView, 'ts'> & { ts?: number }): Promise<void> {
    await this.redis.xadd(
      this.keys.events(ds),
      'MAXLEN',
      '~',
      EVENT_STREAM_MAXLEN,
      '*',
      'type',
      event.type,
      'reason',
      event.reason,
      'message',
      event.message,
      'from',
      event.from,
      'ts',
      String(event.ts ?? Date.now()),
    );
  }

  async events(ds: string, count = 100): Promise<EventView[]> {
    const entries = await this.redis.xrevrange(this.keys.events(ds), '+', '-', 'COUNT', count);
    return entries.reverse().map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return {
        type: f.type === 'Warning' ? 'Warning' : 'Normal',
        reason: f.reason ?? '',
        message: f.message ?? '',
        from: f.from ?? 'daemonset-controller',
        ts: Number(f.ts ?? 0),
      };
    });
  }

  /**
   * Ends a node update: removes the in-flight entry if it is still this job's, records the events
   * the job produced and (when given) its duration. The updates of one DaemonSet that end in the
   * same tick go to Redis as one script run.
   */
  finishNodeUpdate(
    ds: string,
    node: string,
    jobId: string,
    events: Omit<EventView, 'ts'>[],
    durationMs?: number,
  ): Promise<FinishResult> {
    return this.finishes.call({ ds, node, jobId, events, durationMs });
  }

  private finishBatch(items: FinishRequest[]): Promise<BatchOutcome<FinishResult>[]> {
    return perDaemonSet(items, async (ds, group) => {
      const args: (string | number)[] = [EVENT_STREAM_MAXLEN, Date.now()];
      for (const { node, jobId, events, durationMs } of group) {
        args.push(node, jobId, durationMs === undefined ? '' : Math.round(durationMs), events.length);
        for (const e of events) args.push(e.type, e.reason, e.message, e.from);
      }
      const keys = [this.keys.inflight(ds), this.keys.waiting(ds), this.keys.events(ds), this.keys.durations(ds)];
      const [removed, left, waiting] = (await scripts.finishNodeUpdates.run(this.redis, keys, args)) as [
        number[],
        number,
        (string | null)?,
      ];
      return removed.map((done) => ({
        ok: true,
        value: {
          removed: done === 1,
          inflightLeft: Number(left),
          // Unknown (no reconcile wrote it yet; Lua drops a trailing nil) counts as work waiting.
          waiting: Number(waiting ?? 1),
        },
      }));
    });
  }

  /** How many nodes still need the update revision but have no node job (written by each reconcile). */
  async setWaiting(ds: string, count: number): Promise<void> {
    await this.redis.set(this.keys.waiting(ds), String(count));
  }

  async nodeDurations(ds: string): Promise<number[]> {
    return (await this.redis.lrange(this.keys.durations(ds), 0, -1)).map(Number);
  }

  /** Removes everything the worker keeps for a DaemonSet that left Git. */
  async forget(ds: string): Promise<void> {
    await this.redis.del(
      this.keys.inflight(ds),
      this.keys.status(ds),
      this.keys.paused(ds),
      this.keys.durations(ds),
      this.keys.waiting(ds),
    );
  }
}
