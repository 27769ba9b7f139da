/**
 * The CLI's client of the worker HTTP API (`src/http/`), on `fetch`. Like kubectl talking to an API server: the server
 * comes from `--server`, else `DSCTL_SERVER`, else `http://127.0.0.1:8080`; `DSCTL_TOKEN`, when set, is sent as
 * `Authorization: Bearer <token>`.
 *
 * Every failure becomes a {@link CliError} whose message says what to do (exit 1), e.g.
 * `no dsctl worker answers at http://127.0.0.1:8080: start one with "dsctl worker ..." or set --server/DSCTL_SERVER`.
 */
import type { NodeInput } from '../domain/plan.js';
import type { DaemonSetView, EventView, HistoryEntry } from '../domain/views.js';
import type { FleetPod, TimelineEntry, TimelineQuery } from '../fleet/driver.js';
import { redactUrl } from '../observability/logger.js';
import { CliError } from './errors.js';

/** Where the CLI looks for a worker when neither `--server` nor `DSCTL_SERVER` is set. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** How long one API call may take before the CLI gives up. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** An error answer of the API (status ≥ 400), kept with its status and reason for callers that map it. */
export class ApiError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string,
  ) {
    super(message, 1);
    this.name = 'ApiError';
  }
}

/**
 * The server URL to use: `flag`, else `env.DSCTL_SERVER`, else {@link DEFAULT_SERVER}. A bare `host:port` gets
 * `http://`. A value that is not an http(s) URL is bad usage (exit 2). The result has no trailing `/`.
 */
export function resolveServer(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = (flag ?? env['DSCTL_SERVER'] ?? '').trim() || DEFAULT_SERVER;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`invalid server "${redactUrl(raw)}": expected a URL such as ${DEFAULT_SERVER}`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`invalid server "${redactUrl(raw)}": only http:// and https:// are supported`, 2);
  }
  return withScheme.replace(/\/+$/, '');
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080` (see {@link resolveServer}). */
  server: string;
  /** Bearer token for mutations. @defaultValue `DSCTL_TOKEN` */
  token?: string;
  /** Per-request timeout in ms. @defaultValue 30 s */
  timeoutMs?: number;
  /** Injected for tests. @defaultValue global `fetch` */
  fetch?: typeof fetch;
}

/** Errors of the network layer that mean "nobody answers there". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) e = errors[0];
    else e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function innermostMessage(err: unknown): string {
  let e: unknown = err;
  let message = String(err);
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    message = e.message;
    e = e.cause;
  }
  return message;
}

/** Typed calls of the worker API. Every method throws {@link CliError} with a helpful message on failure. */
export class ApiClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: ApiClientOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    const token = opts.token ?? process.env['DSCTL_TOKEN'];
    this.token = token === undefined || token === '' ? undefined : token;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** Sends one request and returns the parsed JSON answer. */
  async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = `${this.server}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw this.networkError(err);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(
        `unexpected answer from ${redactUrl(this.server)}: HTTP ${res.status} ${res.headers.get('content-type') ?? ''}`.trim() +
          ' (is --server/DSCTL_SERVER a dsctl worker?)',
      );
    }
    if (res.ok) return json as T;
    throw this.httpError(res.status, json);
  }

  private networkError(err: unknown): CliError {
    const server = redactUrl(this.server);
    const code = causeCode(err);
    if ((err as { name?: string }).name === 'TimeoutError') {
      return new CliError(`the dsctl worker at ${server} did not answer within ${this.timeoutMs / 1000}s`);
    }
    if (code === 'ECONNREFUSED') {
      return new CliError(
        `no dsctl worker answers at ${server}: start one with "dsctl worker ..." or set --server/DSCTL_SERVER`,
      );
    }
    if (code !== undefined && UNREACHABLE.has(code)) {
      return new CliError(
        `no dsctl worker answers at ${server} (${code}): start one with "dsctl worker ..." or set --server/DSCTL_SERVER`,
      );
    }
    const detail = code ?? innermostMessage(err);
    return new CliError(`cannot reach the dsctl worker at ${server}: ${redactUrl(detail)}`);
  }

  private httpError(status: number, json: unknown): ApiError {
    const body = (typeof json === 'object' && json !== null ? json : {}) as { error?: unknown; message?: unknown };
    const reason = typeof body.error === 'string' ? body.error : `HTTP${status}`;
    const message = typeof body.message === 'string' ? body.message : `HTTP ${status}`;
    if (status === 401) {
      return new ApiError(
        this.token === undefined
          ? "the dsctl worker needs an API token for this: set DSCTL_TOKEN to the worker's token"
          : "the dsctl worker rejected the token in DSCTL_TOKEN: set DSCTL_TOKEN to the worker's API token",
        status,
        reason,
      );
    }
    if (status === 403) {
      return new ApiError(
        'the dsctl worker runs without an API token and accepts changes only from its own host: run dsctl there, ' +
          'or start the worker with an API token and set DSCTL_TOKEN',
        status,
        reason,
      );
    }
    if (status >= 500) return new ApiError(`the dsctl worker failed: ${message} (HTTP ${status})`, status, reason);
    return new ApiError(message, status, reason);
  }

  /** All DaemonSets, or those of one namespace. */
  listDaemonSets(namespace?: string): Promise<DaemonSetView[]> {
    return this.request('GET', namespace === undefined ? '/api/v1/daemonsets' : `${nsPath(namespace)}/daemonsets`);
  }

  /** One DaemonSet; not found → `daemonsets.apps "NAME" not found in namespace "NS"`. */
  async getDaemonSet(namespace: string, name: string): Promise<DaemonSetView> {
    return this.daemonSetCall(namespace, name, () => this.request('GET', dsPath(namespace, name)));
  }

  /** Revisions oldest first; `all` ignores revisionHistoryLimit. */
  history(namespace: string, name: string, all = false): Promise<HistoryEntry[]> {
    return this.daemonSetCall(namespace, name, () =>
      this.request('GET', `${dsPath(namespace, name)}/history${all ? '?all=true' : ''}`),
    );
  }

  /** Events of a DaemonSet. */
  events(namespace: string, name: string): Promise<EventView[]> {
    return this.daemonSetCall(namespace, name, () => this.request('GET', `${dsPath(namespace, name)}/events`));
  }

  listNodes(): Promise<NodeInput[]> {
    return this.request('GET', '/api/v1/nodes');
  }

  /** Pods, optionally of one namespace and/or one DaemonSet (by name). */
  listPods(filter: { namespace?: string; daemonSet?: string } = {}): Promise<FleetPod[]> {
    const q = new URLSearchParams();
    if (filter.namespace !== undefined) q.set('namespace', filter.namespace);
    if (filter.daemonSet !== undefined) q.set('daemonSet', filter.daemonSet);
    const qs = q.toString();
    return this.request('GET', `/api/v1/pods${qs === '' ? '' : `?${qs}`}`);
  }

  timeline(query: TimelineQuery = {}): Promise<TimelineEntry[]> {
    const q = new URLSearchParams();
    if (query.sinceTs !== undefined) q.set('sinceTs', String(query.sinceTs));
    if (query.afterId !== undefined) q.set('afterId', query.afterId);
    if (query.limit !== undefined) q.set('limit', String(query.limit));
    const qs = q.toString();
    return this.request('GET', `/api/v1/sim/timeline${qs === '' ? '' : `?${qs}`}`);
  }

  /** Deletes a pod; not found → `pods "NAME" not found in namespace "NS"`. */
  async deletePod(namespace: string, name: string): Promise<void> {
    try {
      await this.request('DELETE', `${nsPath(namespace)}/pods/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        throw new ApiError(`pods "${name}" not found in namespace "${namespace}"`, 404, err.reason);
      }
      throw err;
    }
  }

  /** Pauses or resumes the rollout of a DaemonSet. */
  async setPaused(namespace: string, name: string, paused: boolean): Promise<void> {
    await this.daemonSetCall(namespace, name, () =>
      this.request('POST', `${dsPath(namespace, name)}/${paused ? 'pause' : 'resume'}`, {}),
    );
  }

  /** Adds a node, or replaces its labels, taints and flags. */
  async addNode(node: NodeInput): Promise<void> {
    await this.request('POST', '/api/v1/nodes', node);
  }

  /** Removes a node; not found → `nodes "NAME" not found`. */
  async removeNode(name: string): Promise<void> {
    await this.nodeCall(name, () => this.request('DELETE', `/api/v1/nodes/${encodeURIComponent(name)}`));
  }

  /** Marks a node Ready or NotReady. */
  async setNodeReady(name: string, ready: boolean): Promise<void> {
    await this.nodeCall(name, () => this.request('POST', `/api/v1/nodes/${encodeURIComponent(name)}/ready`, { ready }));
  }

  /** Asks the worker to fetch Git and reconcile now. */
  async sync(): Promise<void> {
    await this.request('POST', '/api/v1/sync', {});
  }

  private async daemonSetCall<T>(namespace: string, name: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        throw new ApiError(`daemonsets.apps "${name}" not found in namespace "${namespace}"`, 404, err.reason);
      }
      throw err;
    }
  }

  private async nodeCall<T>(name: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        throw new ApiError(`nodes "${name}" not found`, 404, err.reason);
      }
      throw err;
    }
  }
}

function nsPath(namespace: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
}

function dsPath(namespace: string, name: string): string {
  return `${nsPath(namespace)}/daemonsets/${encodeURIComponent(name)}`;
}

/**
 * The revision history of a DaemonSet from the worker API, oldest first (`GET .../history[?all=true]`), for
 * `rollout history -o json` and friends. `server` as given to `--server` (or undefined for the default/env).
 * Throws {@link CliError} with a helpful message (unknown DaemonSet, no worker, …).
 */
export async function fetchHistory(
  server: string | undefined,
  namespace: string,
  name: string,
  all = false,
): Promise<HistoryEntry[]> {
  return new ApiClient({ server: resolveServer(server) }).history(namespace, name, all);
}
