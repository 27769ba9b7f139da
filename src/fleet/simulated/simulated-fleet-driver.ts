/**
 * The `sim` fleet: simulated nodes and pods kept entirely in Redis, so every worker replica and the CLI see one fleet.
 *
 * Behaviour (spec/product.md "The simulated fleet", daemonset-semantics.md §4, §5):
 * - A pod created at `t` (Redis `TIME`) is `Pending` until `t + startDelayMs`, then `Running`, and Ready from that
 *   instant when its node is ready. Readiness is derived from time, not timers: whoever reads or changes the fleet
 *   first materialises the transitions that became due, stamped with the time they happened.
 * - A pod one of whose images matches `failImage` stays `Pending` and never becomes ready (as with a mistyped tag:
 *   `ImagePullBackOff` keeps a Kubernetes pod Pending).
 * - A node marked not ready makes its ready pods not ready at once (`not-ready` entry); when it is ready again its
 *   Running pods are ready again with `readySince` = that moment. `readySince` is only set while a pod is ready.
 * - Deleting a pod removes it at once (no graceful termination). Removing a node deletes its pods, as the Kubernetes
 *   pod garbage collector does.
 * - `startDelayMs` and `failImage` are this driver instance's settings, applied when a pod is created and frozen into
 *   it; replicas should use the same settings.
 * - Timeline: a Redis stream capped at about `timelineCap` entries (oldest dropped first; `MAXLEN ~`, so it may hold
 *   slightly more). Idempotency records expire after `idempotencyTtlMs`.
 */
import { z } from 'zod';
import type { NodeInput, PodPhase } from '../../domain/plan.js';
import type {
  ConvergeNodeRequest,
  ConvergeNodeResult,
  CreatePodRequest,
  CreatePodResult,
  FleetDriver,
  FleetPod,
  FleetSnapshot,
  TimelineEntry,
  TimelineEvent,
  TimelineQuery,
} from '../driver.js';
import { FleetInputError, FleetStateError, NodeNotFoundError, PodExistsError } from '../errors.js';
import { fleetKeys, type FleetKeys } from './keys.js';
import {
  CREATE_POD,
  CONVERGE_NODE,
  DELETE_POD,
  INIT_FLEET,
  READ_FLEET,
  READ_TIMELINE,
  REMOVE_NODE,
  SET_NODE_READY,
  UPSERT_NODE,
} from './lua.js';
import { RedisScript, type ScriptRedis } from '../../redis/script.js';
import { TickBatcher, type BatchOutcome } from '../../redis/tick-batcher.js';

/** Node updates per script run at most (a run of 100 takes Redis about 5 ms). */
const CONVERGE_BATCH = 100;

/** A Redis connection the fleet can run scripts on: a single node or a Cluster client. */
export type FleetRedis = ScriptRedis;

/** Options of {@link SimulatedFleetDriver}. */
export interface SimulatedFleetOptions {
  /** Connection shared with the caller (not closed by the driver). Do not set ioredis `keyPrefix` on it. */
  redis: FleetRedis;
  /** Key prefix; keys are `{<prefix>}:fleet:...` (one Redis Cluster hash tag). For example `dsctl`. */
  prefix: string;
  /** Milliseconds from creation until a pod's containers start and it becomes ready. */
  startDelayMs: number;
  /** Pods with an image matching this never become ready. A string is compiled as a regular expression (unanchored). */
  failImage?: RegExp | string;
  /** Approximate maximum number of timeline entries kept. @defaultValue 1_000_000 */
  timelineCap?: number;
  /** How long a `createPod` idempotency key is remembered, in ms. @defaultValue 7 days */
  idempotencyTtlMs?: number;
  /**
   * Pods this instance keeps parsed between reads, over all DaemonSets (the least recently read
   * DaemonSet goes first; one with more pods is never kept). @defaultValue 20_000 (about 10 MB)
   */
  podCacheLimit?: number;
}

/** Default of {@link SimulatedFleetOptions.timelineCap}. */
export const DEFAULT_TIMELINE_CAP = 1_000_000;
/** Default of {@link SimulatedFleetOptions.idempotencyTtlMs}: 7 days. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 7 * 24 * 3600 * 1000;
/** Largest fleet `init` creates. */
export const MAX_INIT_NODES = 1_000_000;

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
const DAEMON_SET =
  /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?\/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
const STREAM_ID = /^\d+-\d+$/;

const scripts = {
  initFleet: new RedisScript('initFleet', INIT_FLEET),
  readFleet: new RedisScript('readFleet', READ_FLEET),
  readTimeline: new RedisScript('readTimeline', READ_TIMELINE),
  createPod: new RedisScript('createPod', CREATE_POD),
  convergeNode: new RedisScript('convergeNode', CONVERGE_NODE),
  deletePod: new RedisScript('deletePod', DELETE_POD),
  upsertNode: new RedisScript('upsertNode', UPSERT_NODE),
  setNodeReady: new RedisScript('setNodeReady', SET_NODE_READY),
  removeNode: new RedisScript('removeNode', REMOVE_NODE),
};

const nodeSchema = z.object({
  name: z.string().regex(NAME, 'must be a DNS-style name'),
  labels: z.record(z.string(), z.string()).optional(),
  taints: z
    .array(z.object({ key: z.string().min(1), value: z.string().optional(), effect: z.string().min(1) }))
    .optional(),
  ready: z.boolean().optional(),
  unschedulable: z.boolean().optional(),
});

/** The simulated {@link FleetDriver}; see the file comment for its behaviour. */
export class SimulatedFleetDriver implements FleetDriver {
  /** Key names of this fleet. */
  readonly keys: FleetKeys;
  readonly startDelayMs: number;
  private readonly redis: FleetRedis;
  private readonly failImage: RegExp | undefined;
  private readonly timelineCap: number;
  private readonly idempotencyTtlMs: number;
  /**
   * The nodes as last read, with their version: a read skips them while the version holds (10,000
   * nodes are parsed once, not at every reconcile of every DaemonSet). Shared between callers, so frozen.
   */
  private nodesCache: { version: string; nodes: readonly NodeInput[] } | undefined;
  /**
   * Each DaemonSet's pods as last read, with their version, the same way (an idle DaemonSet's
   * reconcile reads no pods at all); least recently read first, at most `podCacheLimit` pods.
   */
  private readonly podsCache = new Map<string, { version: string; pods: readonly FleetPod[] }>();
  private podsCached = 0;
  private readonly podCacheLimit: number;
  private readonly converges = new TickBatcher<
    { req: ConvergeNodeRequest; args: (string | number)[] },
    ConvergeNodeResult
  >((items) => this.convergeBatch(items), CONVERGE_BATCH);

  constructor(options: SimulatedFleetOptions) {
    this.redis = options.redis;
    this.keys = fleetKeys(options.prefix);
    this.startDelayMs = nonNegativeInt('startDelayMs', options.startDelayMs);
    this.timelineCap = positiveInt('timelineCap', options.timelineCap ?? DEFAULT_TIMELINE_CAP);
    this.idempotencyTtlMs = positiveInt('idempotencyTtlMs', options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS);
    this.failImage = compileFailImage(options.failImage);
    this.podCacheLimit = nonNegativeInt('podCacheLimit', options.podCacheLimit ?? 20_000);
  }

  /**
   * Creates nodes `node-1`..`node-N` under `prefix` unless that fleet was initialised before (idempotent, atomic: of
   * many replicas starting at once, one creates the nodes). Nodes added or removed since are left alone.
   * @returns whether this call created the fleet.
   */
  static async init(redis: FleetRedis, prefix: string, nodeCount: number): Promise<boolean> {
    return new SimulatedFleetDriver({ redis, prefix, startDelayMs: 0 }).initFleet(nodeCount);
  }

  /** Instance form of {@link SimulatedFleetDriver.init}. */
  async initFleet(nodeCount: number): Promise<boolean> {
    const count = nonNegativeInt('nodeCount', nodeCount);
    if (count > MAX_INIT_NODES) throw new FleetInputError(`init fleet: nodeCount ${count} exceeds ${MAX_INIT_NODES}`);
    const created = await this.run(scripts.initFleet, [this.keys.meta], [count]);
    return created === 1;
  }

  async snapshot(daemonSet: string): Promise<FleetSnapshot> {
    checkDaemonSet(daemonSet);
    const { now, nodes, pods } = await this.read(true, daemonSet);
    return { nodes, pods, now };
  }

  async listNodes(): Promise<NodeInput[]> {
    return (await this.read(true, null)).nodes;
  }

  async listPods(daemonSet?: string): Promise<FleetPod[]> {
    if (daemonSet !== undefined) checkDaemonSet(daemonSet);
    return (await this.read(false, daemonSet ?? 'all')).pods;
  }

  async podsOnNode(daemonSet: string, node: string): Promise<{ now: number; pods: FleetPod[] }> {
    checkDaemonSet(daemonSet);
    checkName('node', node);
    const { now, pods } = await this.read(false, daemonSet, node);
    return { now, pods };
  }

  async now(): Promise<number> {
    return (await this.read(false, null)).now;
  }

  async createPod(req: CreatePodRequest): Promise<CreatePodResult> {
    const [code, json] = asTuple(await this.run(scripts.createPod, [], this.createArgs(req)));
    return { created: code === 1, pod: this.createdPod(req, code, json) };
  }

  /** Node updates of one tick (jobs whose replies came in together) go to Redis as one script run. */
  async convergeNode(req: ConvergeNodeRequest): Promise<ConvergeNodeResult> {
    const args = [...this.createArgs(req), req.deleteOtherRevisions ? '1' : '0'];
    return this.converges.call({ req, args });
  }

  private async convergeBatch(
    items: { req: ConvergeNodeRequest; args: (string | number)[] }[],
  ): Promise<BatchOutcome<ConvergeNodeResult>[]> {
    const results = await this.run(
      scripts.convergeNode,
      [],
      items.flatMap((item) => item.args),
    );
    if (!Array.isArray(results) || results.length !== items.length) {
      throw new FleetStateError('converge node: unexpected script result');
    }
    return items.map(({ req }, i): BatchOutcome<ConvergeNodeResult> => {
      const result: unknown = results[i];
      if (!Array.isArray(result) || result.length !== 3 || !Array.isArray(result[2])) {
        return { ok: false, error: new FleetStateError('converge node: unexpected script result') };
      }
      try {
        const [code, json] = asTuple(result.slice(0, 2));
        const pod = this.createdPod(req, code === 2 ? 0 : code, json);
        return { ok: true, value: { created: code === 1, pod, deleted: result[2] as string[] } };
      } catch (error) {
        return { ok: false, error };
      }
    });
  }

  private createArgs(req: CreatePodRequest): (string | number)[] {
    checkDaemonSet(req.daemonSet);
    checkName('node', req.node);
    checkName('pod', req.podName);
    if (req.revision.length === 0 || /\s/.test(req.revision)) {
      throw new FleetInputError(`create pod: revision ${JSON.stringify(req.revision)} must be non-empty, no spaces`);
    }
    if (req.idempotencyKey.length === 0 || req.idempotencyKey.length > 1024) {
      throw new FleetInputError('create pod: idempotencyKey must have 1 to 1024 characters');
    }
    if (!Array.isArray(req.images) || req.images.some((image) => typeof image !== 'string' || image.length === 0)) {
      throw new FleetInputError('create pod: images must be non-empty strings');
    }
    const delay = this.imageFails(req.images) ? -1 : this.startDelayMs;
    return [
      req.daemonSet,
      req.node,
      req.podName,
      req.revision,
      JSON.stringify(req.images),
      req.idempotencyKey,
      req.createdBy ?? '',
      delay,
      this.idempotencyTtlMs,
    ];
  }

  private createdPod(req: CreatePodRequest, code: unknown, json: unknown): FleetPod {
    switch (code) {
      case 1:
      case 0:
        return parsePod(json);
      case -1:
        throw new NodeNotFoundError(req.node);
      case -2:
        throw new PodExistsError(req.daemonSet, req.podName);
      default:
        throw new FleetStateError(`create pod: unexpected script result ${String(code)}`);
    }
  }

  async deletePod(daemonSet: string, podName: string): Promise<boolean> {
    checkDaemonSet(daemonSet);
    checkName('pod', podName);
    return (await this.run(scripts.deletePod, [], [daemonSet, podName])) === 1;
  }

  async addNode(node: NodeInput): Promise<void> {
    const parsed = nodeSchema.safeParse(node);
    if (!parsed.success) {
      throw new FleetInputError(`add node: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)}`);
    }
    await this.run(scripts.upsertNode, [], [JSON.stringify(normalizeNode(parsed.data))]);
  }

  async removeNode(name: string): Promise<boolean> {
    checkName('node', name);
    return (await this.run(scripts.removeNode, [], [name])) === 1;
  }

  async setNodeReady(name: string, ready: boolean): Promise<boolean> {
    checkName('node', name);
    return (await this.run(scripts.setNodeReady, [], [name, ready ? '1' : '0'])) === 1;
  }

  async timeline(query: TimelineQuery = {}): Promise<TimelineEntry[]> {
    let start = '-';
    if (query.afterId !== undefined) {
      if (!STREAM_ID.test(query.afterId)) throw new FleetInputError(`timeline: bad afterId ${query.afterId}`);
      start = `(${query.afterId}`;
    } else if (query.sinceTs !== undefined) {
      start = String(nonNegativeInt('sinceTs', Math.ceil(query.sinceTs)));
    }
    let count = '';
    if (query.limit !== undefined) {
      if (nonNegativeInt('limit', query.limit) === 0) return [];
      count = String(query.limit);
    }
    const [, entries] = asTuple(await this.run(scripts.readTimeline, [], [start, count]));
    if (!Array.isArray(entries)) throw new FleetStateError('timeline: unexpected script result');
    return entries.map(parseTimelineEntry);
  }

  private imageFails(images: readonly string[]): boolean {
    const pattern = this.failImage;
    return pattern !== undefined && images.some((image) => pattern.test(image));
  }

  private async read(
    withNodes: boolean,
    pods: string | 'all' | null,
    node?: string,
  ): Promise<{ now: number; nodes: NodeInput[]; pods: FleetPod[] }> {
    const mode = pods === null ? 'none' : pods === 'all' ? 'all' : node !== undefined ? 'node' : 'one';
    const cached = this.nodesCache;
    const nodesArg = withNodes ? (cached?.version ?? '*') : '';
    const cachedPods = mode === 'one' ? this.podsCache.get(pods!) : undefined;
    const result = await this.run(
      scripts.readFleet,
      [],
      [nodesArg, mode, pods ?? '', node ?? '', cachedPods?.version ?? ''],
    );
    if (!Array.isArray(result) || result.length !== 7)
      throw new FleetStateError('read fleet: unexpected script result');
    const [now, rawNodes, rawPods, version, included, podsVersion, podsIncluded] = result as unknown[];
    if (
      typeof now !== 'number' ||
      !Array.isArray(rawNodes) ||
      !Array.isArray(rawPods) ||
      typeof version !== 'string' ||
      typeof podsVersion !== 'string'
    ) {
      throw new FleetStateError('read fleet: unexpected script result');
    }
    let nodes: readonly NodeInput[] = [];
    if (included === 1) {
      nodes = Object.freeze(
        rawNodes.map((raw) => freezeNode(parseNode(raw))).sort((a, b) => compareStrings(a.name, b.name)),
      );
      this.nodesCache = { version, nodes };
    } else if (withNodes) {
      if (!cached || cached.version !== version)
        throw new FleetStateError('read fleet: nodes left out of a changed version');
      nodes = cached.nodes;
    }
    if (mode !== 'one') return { now, nodes: [...nodes], pods: rawPods.map((raw) => parsePod(raw)).sort(comparePods) };
    let podList: readonly FleetPod[];
    if (podsIncluded === 1) {
      podList = rawPods.map((raw) => freezePod(parsePod(raw))).sort(comparePods);
      this.cachePods(pods!, podsVersion, podList);
    } else {
      if (!cachedPods || cachedPods.version !== podsVersion)
        throw new FleetStateError('read fleet: pods left out of a changed version');
      podList = cachedPods.pods;
      this.cachePods(pods!, podsVersion, podList); // now the most recently read
    }
    return { now, nodes: [...nodes], pods: [...podList] };
  }

  private cachePods(daemonSet: string, version: string, pods: readonly FleetPod[]): void {
    const previous = this.podsCache.get(daemonSet);
    if (previous) {
      this.podsCache.delete(daemonSet);
      this.podsCached -= previous.pods.length;
    }
    if (pods.length > this.podCacheLimit) return;
    this.podsCache.set(daemonSet, { version, pods });
    this.podsCached += pods.length;
    for (const [oldest, entry] of this.podsCache) {
      if (this.podsCached <= this.podCacheLimit) break;
      this.podsCache.delete(oldest);
      this.podsCached -= entry.pods.length;
    }
  }

  private run(script: RedisScript, extraKeys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const k = this.keys;
    return script.run(
      this.redis,
      [k.nodes, k.pending, k.timeline, k.clock, k.daemonSets, ...extraKeys],
      [k.base, this.timelineCap, ...args],
    );
  }
}

function compileFailImage(pattern: RegExp | string | undefined): RegExp | undefined {
  if (pattern === undefined || pattern === '') return undefined;
  try {
    // Without g/y a RegExp keeps no lastIndex state between test() calls.
    return typeof pattern === 'string'
      ? new RegExp(pattern)
      : new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  } catch (cause) {
    throw new FleetInputError(`failImage: invalid pattern ${JSON.stringify(String(pattern))}`, { cause });
  }
}

function nonNegativeInt(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FleetInputError(`${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function positiveInt(what: string, value: number): number {
  if (nonNegativeInt(what, value) === 0) throw new FleetInputError(`${what} must be positive`);
  return value;
}

function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new FleetInputError(`${what} name ${JSON.stringify(name)} must be a DNS-style name`);
  }
}

function checkDaemonSet(daemonSet: string): void {
  if (typeof daemonSet !== 'string' || !DAEMON_SET.test(daemonSet)) {
    throw new FleetInputError(`DaemonSet ${JSON.stringify(daemonSet)} must be namespace/name`);
  }
}

/** Plain string order, as the planner walks nodes (`node-1 < node-10 < node-2`). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Oldest first (daemonset-semantics.md §5.2): createdAt, then name; DaemonSet keeps a mixed list deterministic. */
function comparePods(a: FleetPod, b: FleetPod): number {
  return a.createdAt - b.createdAt || compareStrings(a.name, b.name) || compareStrings(a.daemonSet, b.daemonSet);
}

/** Stored form of a node: `ready` always present, empty collections and false flags left out. */
function normalizeNode(node: NodeInput): NodeInput {
  const out: NodeInput = { name: node.name };
  if (node.labels && Object.keys(node.labels).length > 0) out.labels = { ...node.labels };
  if (node.taints && node.taints.length > 0) {
    out.taints = node.taints.map((t) => (t.value === undefined ? { key: t.key, effect: t.effect } : { ...t }));
  }
  out.ready = node.ready !== false;
  if (node.unschedulable === true) out.unschedulable = true;
  return out;
}

function decode(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'string') throw new FleetStateError(`${what}: expected a JSON string`);
  const value: unknown = JSON.parse(raw);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FleetStateError(`${what}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function requireString(obj: Record<string, unknown>, field: string, what: string): string {
  const value = obj[field];
  if (typeof value !== 'string') throw new FleetStateError(`${what}: ${field} is not a string`);
  return value;
}

/** Turns a stored node back into a `NodeInput` (Lua's cjson writes an empty array as `{}`). */
function parseNode(raw: unknown): NodeInput {
  const obj = decode(raw, 'node');
  const node: NodeInput = { name: requireString(obj, 'name', 'node') };
  const labels = obj['labels'];
  if (labels && typeof labels === 'object' && !Array.isArray(labels) && Object.keys(labels).length > 0) {
    node.labels = labels as Record<string, string>;
  }
  const taints = obj['taints'];
  if (Array.isArray(taints) && taints.length > 0) node.taints = taints as NodeInput['taints'];
  node.ready = obj['ready'] !== false;
  if (obj['unschedulable'] === true) node.unschedulable = true;
  return node;
}

/** Shallow-freezes a node and its labels and taints (cached nodes are shared by every reader). */
function freezeNode(node: NodeInput): NodeInput {
  if (node.labels) Object.freeze(node.labels);
  if (node.taints) {
    for (const taint of node.taints) Object.freeze(taint);
    Object.freeze(node.taints);
  }
  return Object.freeze(node);
}

/** Freezes a pod and its images (cached pods are shared by every reader). */
function freezePod(pod: FleetPod): FleetPod {
  Object.freeze(pod.images);
  return Object.freeze(pod);
}

const PHASES: readonly PodPhase[] = ['Running', 'Pending', 'Failed', 'Succeeded'];

/** Turns a stored pod into a `FleetPod`, dropping the driver's internal fields. */
function parsePod(raw: unknown): FleetPod {
  const obj = decode(raw, 'pod');
  const createdAt = obj['createdAt'];
  const phase = obj['phase'];
  if (typeof createdAt !== 'number') throw new FleetStateError('pod: createdAt is not a number');
  if (!PHASES.includes(phase as PodPhase)) throw new FleetStateError(`pod: bad phase ${String(phase)}`);
  const images = Array.isArray(obj['images']) ? obj['images'].filter((i): i is string => typeof i === 'string') : [];
  const pod: FleetPod = {
    name: requireString(obj, 'name', 'pod'),
    node: requireString(obj, 'node', 'pod'),
    revision: requireString(obj, 'revision', 'pod'),
    daemonSet: requireString(obj, 'daemonSet', 'pod'),
    images,
    createdAt,
    phase: phase as PodPhase,
    ready: obj['ready'] === true,
  };
  if (images[0] !== undefined) pod.image = images[0];
  if (typeof obj['readySince'] === 'number' && pod.ready) pod.readySince = obj['readySince'];
  if (obj['deleting'] === true) pod.deleting = true;
  if (typeof obj['deletedAt'] === 'number') pod.deletedAt = obj['deletedAt'];
  if (typeof obj['createdBy'] === 'string') pod.createdBy = obj['createdBy'];
  if (typeof obj['idempotencyKey'] === 'string') pod.idempotencyKey = obj['idempotencyKey'];
  return pod;
}

const EVENTS: readonly TimelineEvent[] = ['created', 'ready', 'not-ready', 'deleted'];

function parseTimelineEntry(raw: unknown): TimelineEntry {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string' || !Array.isArray(raw[1])) {
    throw new FleetStateError('timeline: malformed entry');
  }
  const id = raw[0];
  const flat = raw[1] as unknown[];
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
  const event = fields['event'] as TimelineEvent;
  if (!EVENTS.includes(event)) throw new FleetStateError(`timeline: unknown event ${String(event)}`);
  return {
    id,
    ts: Number(id.slice(0, id.indexOf('-'))),
    event,
    daemonSet: fields['daemonSet'] ?? '',
    node: fields['node'] ?? '',
    pod: fields['pod'] ?? '',
    revision: fields['revision'] ?? '',
  };
}

function asTuple(result: unknown): [unknown, unknown] {
  if (!Array.isArray(result) || result.length !== 2) throw new FleetStateError('unexpected script result');
  return [result[0], result[1]];
}
