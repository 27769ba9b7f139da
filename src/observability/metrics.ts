/**
 * Prometheus metrics of a dsctl process, on a registry of their own (never prom-client's global one, so tests and
 * several workers in one process do not collide). Every series is prefixed `dsctl_`.
 *
 * The worker calls the methods below; `GET /metrics` serves {@link Metrics.registry}.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcome of one per-node update job. */
export type NodeJobOutcome = 'updated' | 'failed' | 'superseded' | 'noop';

/** Outcome of one webhook delivery. */
export type WebhookResult = 'accepted' | 'ignored' | 'unauthorized' | 'duplicate' | 'ping' | 'invalid';

/** Progress of one DaemonSet's rollout, as the reconciler last computed it. */
export interface RolloutProgress {
  /** Nodes that should run the DaemonSet (desiredNumberScheduled). */
  nodesTotal: number;
  /** Nodes whose pod runs the update revision. */
  nodesUpdated: number;
  /** Nodes whose pod is available. */
  nodesAvailable: number;
  /** Units of the maxUnavailable/maxSurge budget in use. */
  budgetInUse: number;
  /** The budget (maxUnavailable, or maxSurge when surging). */
  budgetLimit: number;
  /** Estimated seconds until the rollout completes; null when unknown (the series is then removed). */
  etaSeconds: number | null;
  /** The rollout exceeded its progress deadline. */
  deadlineExceeded?: boolean;
}

/** Queue name → job state (`waiting`, `active`, `delayed`, `failed`, …) → count. */
export type QueueDepths = Record<string, Record<string, number>>;

/** Options of {@link Metrics}. */
export interface MetricsOptions {
  /** Collect prom-client's default process metrics (`dsctl_process_*`, `dsctl_nodejs_*`). @defaultValue true */
  collectDefault?: boolean;
}

/** Buckets for durations from milliseconds to minutes (node updates wait for readiness). */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * All metrics of dsctl. One instance per process (or per test); construct it in the composition root and pass it down.
 */
export class Metrics {
  /** The registry `GET /metrics` exposes. */
  readonly registry: Registry;

  private readonly nodeJobs: Counter<'result'>;
  private readonly nodeJobDuration: Histogram<'result'>;
  private readonly gitPolls: Counter<'result'>;
  private readonly gitPollDuration: Histogram<'result'>;
  private readonly webhooks: Counter<'provider' | 'result'>;
  private readonly reconciles: Counter<'result'>;
  private readonly reconcileDuration: Histogram<'result'>;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly rolloutNodes: Gauge<'daemonset' | 'state'>;
  private readonly rolloutBudget: Gauge<'daemonset' | 'kind'>;
  private readonly rolloutEta: Gauge<'daemonset'>;
  private readonly rolloutProgress: Gauge<'daemonset'>;
  private readonly rolloutDeadline: Gauge<'daemonset'>;
  private queueDepthCollector: (() => Promise<QueueDepths>) | undefined;

  constructor(opts: MetricsOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (opts.collectDefault !== false) collectDefaultMetrics({ register: this.registry, prefix: 'dsctl_' });

    this.nodeJobs = new Counter({
      name: 'dsctl_node_updates_total',
      help: 'Per-node update jobs finished, by result (updated, failed, superseded, noop).',
      labelNames: ['result'],
      registers,
    });
    this.nodeJobDuration = new Histogram({
      name: 'dsctl_node_update_duration_seconds',
      help: 'Duration of per-node update jobs, from start until the pod is ready or the job gives up.',
      labelNames: ['result'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.gitPolls = new Counter({
      name: 'dsctl_git_polls_total',
      help: 'Git fetches of the source repository, by result (ok, error).',
      labelNames: ['result'],
      registers,
    });
    this.gitPollDuration = new Histogram({
      name: 'dsctl_git_poll_duration_seconds',
      help: 'Duration of Git fetches of the source repository.',
      labelNames: ['result'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.webhooks = new Counter({
      name: 'dsctl_webhooks_total',
      help: 'Webhook deliveries, by provider and result (accepted, ignored, unauthorized, duplicate, ping, invalid).',
      labelNames: ['provider', 'result'],
      registers,
    });
    this.reconciles = new Counter({
      name: 'dsctl_reconciles_total',
      help: 'Reconciles of DaemonSets, by result.',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'dsctl_reconcile_duration_seconds',
      help: 'Duration of one reconcile of a DaemonSet.',
      labelNames: ['result'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: 'dsctl_http_requests_total',
      help: 'HTTP requests served, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'dsctl_http_request_duration_seconds',
      help: 'Duration of HTTP requests served, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.rolloutNodes = new Gauge({
      name: 'dsctl_rollout_nodes',
      help: 'Nodes of a DaemonSet rollout, by state (desired, updated, available).',
      labelNames: ['daemonset', 'state'],
      registers,
    });
    this.rolloutBudget = new Gauge({
      name: 'dsctl_rollout_budget',
      help: 'Rollout budget of a DaemonSet (maxUnavailable or maxSurge): kind="limit" and kind="in_use".',
      labelNames: ['daemonset', 'kind'],
      registers,
    });
    this.rolloutEta = new Gauge({
      name: 'dsctl_rollout_eta_seconds',
      help: 'Estimated seconds until the rollout of a DaemonSet completes (absent when unknown).',
      labelNames: ['daemonset'],
      registers,
    });
    this.rolloutProgress = new Gauge({
      name: 'dsctl_rollout_progress_ratio',
      help: 'Updated nodes divided by desired nodes (1 when there are none).',
      labelNames: ['daemonset'],
      registers,
    });
    this.rolloutDeadline = new Gauge({
      name: 'dsctl_rollout_deadline_exceeded',
      help: '1 when the rollout of a DaemonSet exceeded its progress deadline, else 0.',
      labelNames: ['daemonset'],
      registers,
    });
    const depthsOf = (): (() => Promise<QueueDepths>) | undefined => this.queueDepthCollector;
    new Gauge({
      name: 'dsctl_queue_jobs',
      help: 'BullMQ jobs by queue and state, read from Redis at scrape time.',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        const collector = depthsOf();
        if (collector === undefined) return;
        let depths: QueueDepths;
        try {
          depths = await collector();
        } catch {
          // Redis down: expose no queue series rather than failing the whole scrape.
          return;
        }
        for (const [queue, states] of Object.entries(depths)) {
          for (const [state, count] of Object.entries(states)) this.set({ queue, state }, count);
        }
      },
    });
  }

  /** Counts a finished per-node update job and its duration in seconds. */
  observeNodeJob(seconds: number, outcome: NodeJobOutcome): void {
    this.nodeJobs.inc({ result: outcome });
    this.nodeJobDuration.observe({ result: outcome }, seconds);
  }

  /** Counts a Git fetch and its duration in seconds. */
  observeGitPoll(seconds: number, ok: boolean): void {
    const result = ok ? 'ok' : 'error';
    this.gitPolls.inc({ result });
    this.gitPollDuration.observe({ result }, seconds);
  }

  /** Counts one webhook delivery by provider (`github`, `gitlab`, `gitea`, `generic`) and result. */
  countWebhook(provider: string, result: WebhookResult): void {
    this.webhooks.inc({ provider, result });
  }

  /** Counts one reconcile by result (e.g. `success`, `requeue`, `error`). */
  countReconcile(result: string): void {
    this.reconciles.inc({ result });
  }

  /** Counts one reconcile with its duration in seconds; use instead of (not with) {@link countReconcile}. */
  observeReconcile(seconds: number, result: string): void {
    this.reconciles.inc({ result });
    this.reconcileDuration.observe({ result }, seconds);
  }

  /** Counts one served HTTP request; `route` is the route pattern (`/api/v1/nodes/:name`), never the raw URL. */
  observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }

  /** Sets the rollout gauges of one DaemonSet (`namespace/name`). */
  setRolloutProgress(daemonSet: string, p: RolloutProgress): void {
    const labels = { daemonset: daemonSet };
    this.rolloutNodes.set({ ...labels, state: 'desired' }, p.nodesTotal);
    this.rolloutNodes.set({ ...labels, state: 'updated' }, p.nodesUpdated);
    this.rolloutNodes.set({ ...labels, state: 'available' }, p.nodesAvailable);
    this.rolloutBudget.set({ ...labels, kind: 'in_use' }, p.budgetInUse);
    this.rolloutBudget.set({ ...labels, kind: 'limit' }, p.budgetLimit);
    this.rolloutProgress.set(labels, p.nodesTotal === 0 ? 1 : p.nodesUpdated / p.nodesTotal);
    this.rolloutDeadline.set(labels, p.deadlineExceeded === true ? 1 : 0);
    if (p.etaSeconds === null || !Number.isFinite(p.etaSeconds)) this.rolloutEta.remove(labels);
    else this.rolloutEta.set(labels, p.etaSeconds);
  }

  /** Drops every series of a DaemonSet that no longer exists. */
  removeDaemonSet(daemonSet: string): void {
    const labels = { daemonset: daemonSet };
    for (const state of ['desired', 'updated', 'available']) this.rolloutNodes.remove({ ...labels, state });
    for (const kind of ['in_use', 'limit']) this.rolloutBudget.remove({ ...labels, kind });
    this.rolloutEta.remove(labels);
    this.rolloutProgress.remove(labels);
    this.rolloutDeadline.remove(labels);
  }

  /**
   * Registers the function that reads queue depths at scrape time (e.g. BullMQ `queue.getJobCounts()` per queue).
   * A failing collector exposes no `dsctl_queue_jobs` series for that scrape.
   */
  setQueueDepthCollector(fn: () => Promise<QueueDepths>): void {
    this.queueDepthCollector = fn;
  }

  /** The Prometheus text exposition. */
  async exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content-Type of {@link exposition}. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
