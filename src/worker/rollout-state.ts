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
import { AGGREGATE_WINDOW_MS, COMBINED_PREFIX, EventAggregator, type NewEvent } from './event-aggregator.js';
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
local payload, pos, fields = ARGV[2], 1, {}
while pos <= #payload do
  local nodeEnd = string.find(payload, '\\n', pos, true)
  local jsonEnd = string.find(payload, '\\n', nodeEnd + 1, true)
  fields[#fields + 1] = string.sub(payload, pos, nodeEnd - 1)
  fields[#fields + 1] = string.sub(payload, nodeEnd + 1, jsonEnd - 1)
  pos = jsonEnd + 1
  if #fields >= 1000 then
    redis.call('HSET', KEYS[2], unpack(fields))
    fields = {}
  end
end
if #fields > 0 then redis.call('HSET', KEYS[2], unpack(fields)) end
return 1`;

// Shared by the scripts that record events: KEYS[1] event stream, KEYS[2] combined events hash;
// ARGV[1] stream MAXLEN, ARGV[2] now ms, ARGV[3] aggregation window ms; from ARGV[4]: the number of
// single events and 4 values each (type, reason, message, from), then the number of combined groups
// and 5 values each (type, reason, from, latest message, count). Returns the index after them.
const RECORD_EVENTS_FN = `
local function recordEvents(streamKey, aggregatesKey)
  local now, window = tonumber(ARGV[2]), tonumber(ARGV[3])
  local i = 4
  for _ = 1, tonumber(ARGV[i]) do
    redis.call('XADD', streamKey, 'MAXLEN', '~', ARGV[1], '*',
      'type', ARGV[i + 1], 'reason', ARGV[i + 2], 'message', ARGV[i + 3], 'from', ARGV[i + 4], 'ts', ARGV[2])
    i = i + 4
  end
  i = i + 1
  for _ = 1, tonumber(ARGV[i]) do
    local field = ARGV[i + 1] .. '\\t' .. ARGV[i + 2] .. '\\t' .. ARGV[i + 3]
    local raw = redis.call('HGET', aggregatesKey, field)
    local ok, agg = false, nil
    if raw then ok, agg = pcall(cjson.decode, raw) end
    if not ok or type(agg) ~= 'table' or type(agg.count) ~= 'number' or now - (tonumber(agg.ts) or 0) > window then
      agg = { type = ARGV[i + 1], reason = ARGV[i + 2], from = ARGV[i + 3], count = 0, firstTs = now }
    end
    agg.count = agg.count + tonumber(ARGV[i + 5])
    agg.message = ARGV[i + 4]
    agg.ts = now
    redis.call('HSET', aggregatesKey, field, cjson.encode(agg))
    i = i + 5
  end
  return i + 1
end
`;

// KEYS[1] event stream, KEYS[2] combined events hash: the events' arguments only (see above).
const RECORD_EVENTS = `${RECORD_EVENTS_FN}
recordEvents(KEYS[1], KEYS[2])
return 1`;

// KEYS[1] event stream, KEYS[2] combined events hash, KEYS[3] inflight hash, KEYS[4] waiting count,
// KEYS[5] durations list; the events' arguments (see above), then per finished node update: node,
// jobId, duration ms or ''. Removes each entry only if it is still that job's; records the events
// and the durations. Returns { { removed (1|0) per update }, entries left, waiting count or false }.
const FINISH_NODE_UPDATES = `${RECORD_EVENTS_FN}
local removed = {}
local i = recordEvents(KEYS[1], KEYS[2])
while i <= #ARGV do
  local node, jobId, duration = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local done = 0
  local v = redis.call('HGET', KEYS[3], node)
  if v then
    local ok, entry = pcall(cjson.decode, v)
    if ok and type(entry) == 'table' and entry['jobId'] == jobId then
      redis.call('HDEL', KEYS[3], node)
      done = 1
    end
  end
  removed[#removed + 1] = done
  if duration ~= '' then redis.call('RPUSH', KEYS[5], duration) end
  i = i + 3
end
redis.call('LTRIM', KEYS[5], -50, -1)
return { removed, redis.call('HLEN', KEYS[3]), redis.call('GET', KEYS[4]) }`;

// KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. Extends the lock only while the caller holds it.
const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

// KEYS[1] lock; ARGV[1] token.
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** A combined event as stored by RECORD_EVENTS_FN; undefined when the record is corrupt. */
function parseCombined(raw: string): EventView | undefined {
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v.count !== 'number' || typeof v.ts !== 'number' || typeof v.message !== 'string') return undefined;
    return {
      type: v.type === 'Warning' ? 'Warning' : 'Normal',
      reason: String(v.reason ?? ''),
      message: `${COMBINED_PREFIX}${v.message}`,
      from: String(v.from ?? 'daemonset-controller'),
      ts: v.ts,
      count: v.count,
      firstTs: typeof v.firstTs === 'number' ? v.firstTs : v.ts,
    };
  } catch {
    return undefined;
  }
}

const scripts = {
  commitPlan: new RedisScript('commitPlan', COMMIT_PLAN),
  finishNodeUpdates: new RedisScript('finishNodeUpdates', FINISH_NODE_UPDATES),
  recordEvents: new RedisScript('recordEvents', RECORD_EVENTS),
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
  private readonly aggregator = new EventAggregator();

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

  /** The last `count` events, oldest first; combined events (with their count) among them by their latest time. */
  async events(ds: string, count = 100): Promise<EventView[]> {
    const [entries, aggregates] = await Promise.all([
      this.redis.xrevrange(this.keys.events(ds), '+', '-', 'COUNT', count),
      this.redis.hvals(this.keys.eventAggregates(ds)),
    ]);
    const events: EventView[] = entries.reverse().map(([, fields]) => {
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
    for (const raw of aggregates) {
      const combined = parseCombined(raw);
      if (combined) events.push(combined);
    }
    return events.sort((a, b) => a.ts - b.ts).slice(-count);
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
      const args = this.eventArgs(
        ds,
        group.flatMap((item) => item.events),
      );
      for (const { node, jobId, durationMs } of group) {
        args.push(node, jobId, durationMs === undefined ? '' : Math.round(durationMs));
      }
      const keys = [
        this.keys.events(ds),
        this.keys.eventAggregates(ds),
        this.keys.inflight(ds),
        this.keys.waiting(ds),
        this.keys.durations(ds),
      ];
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

  /** The events' script arguments (RECORD_EVENTS_FN): split into single and combined events. */
  private eventArgs(ds: string, events: readonly NewEvent[]): (string | number)[] {
    const { single, combined } = this.aggregator.split(ds, events);
    const args: (string | number)[] = [EVENT_STREAM_MAXLEN, Date.now(), AGGREGATE_WINDOW_MS, single.length];
    for (const e of single) args.push(e.type, e.reason, e.message, e.from);
    args.push(combined.length);
    for (const c of combined) args.push(c.type, c.reason, c.from, c.message, c.count);
    return args;
  }

  /**
   * Records a node job's events (Kubernetes' aggregation applies: after nine of one reason, they
   * are combined). {@link recordEvent} is for the rare events of other sources, always single.
   */
  async recordNodeEvents(ds: string, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await scripts.recordEvents.run(
      this.redis,
      [this.keys.events(ds), this.keys.eventAggregates(ds)],
      this.eventArgs(ds, events),
    );
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
    // Its events (single and combined) stay readable, as Kubernetes keeps events past their object.
    this.aggregator.forget(ds);
    await this.redis.del(
      this.keys.inflight(ds),
      this.keys.status(ds),
      this.keys.paused(ds),
      this.keys.durations(ds),
      this.keys.waiting(ds),
    );
  }
}
