/**
 * The JSON API under `/api/v1`: thin translation between HTTP and {@link ControlPlane} calls.
 *
 * Lists are returned as plain JSON arrays. Mutations go through {@link requireMutationAuth}.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ControlPlane, DaemonSetRef } from '../../worker/control-plane.js';
import { requireMutationAuth } from '../auth.js';
import { HttpError } from '../http-error.js';

/** Options of {@link registerApiRoutes}. */
export interface ApiRoutesOptions {
  controlPlane: ControlPlane;
  /** Bearer token required for mutations; without one only loopback clients may mutate. */
  token?: string;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const name = z.string().min(1).max(253).regex(NAME, 'must be a lowercase DNS-style name');

/** Body of `POST /api/v1/nodes` (the planner's NodeInput). */
export const nodeInputSchema = z.strictObject({
  name,
  labels: z.record(z.string().min(1), z.string()).optional(),
  taints: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
      }),
    )
    .optional(),
  ready: z.boolean().optional(),
  unschedulable: z.boolean().optional(),
});

const nodeReadySchema = z.strictObject({ ready: z.boolean() });
const syncSchema = z.union([z.strictObject({ commit: z.string().min(1).optional() }), z.undefined(), z.null()]);
const booleanQuery = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === '');
const timelineQuerySchema = z.object({
  sinceTs: z.coerce.number().finite().optional(),
  afterId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

/** Parses `value` with `schema` or throws a 400 listing every issue. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  throw new HttpError(
    400,
    'BadRequest',
    `invalid ${what}: ${issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')}`,
    issues,
  );
}

function refOf(request: FastifyRequest): DaemonSetRef {
  const params = request.params as { ns: string; name: string };
  return { namespace: params.ns, name: params.name };
}

function query(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

/** The 404 for an unknown DaemonSet, with a hint where it might be. */
async function daemonSetNotFound(controlPlane: ControlPlane, ref: DaemonSetRef): Promise<HttpError> {
  let hint = '';
  try {
    const all = await controlPlane.listDaemonSets();
    const elsewhere = all.filter((d) => d.metadata.name === ref.name).map((d) => d.metadata.namespace);
    const here = all.filter((d) => d.metadata.namespace === ref.namespace).map((d) => d.metadata.name);
    if (elsewhere.length > 0) hint = `; it exists in namespace ${elsewhere.map((n) => `"${n}"`).join(', ')}`;
    else if (here.length > 0) hint = `; DaemonSets in namespace "${ref.namespace}": ${here.sort().join(', ')}`;
    else hint = `; there are no DaemonSets in namespace "${ref.namespace}" (is the manifest on the watched branch?)`;
  } catch {
    // the hint is best effort
  }
  return new HttpError(
    404,
    'NotFound',
    `daemonsets.apps "${ref.name}" not found in namespace "${ref.namespace}"${hint}`,
  );
}

/** Registers every `/api/v1` route on `app`. */
export function registerApiRoutes(app: FastifyInstance, opts: ApiRoutesOptions): void {
  const cp = opts.controlPlane;
  const guard = requireMutationAuth(opts.token);
  const dsPath = '/api/v1/namespaces/:ns/daemonsets/:name';

  app.get('/api/v1/daemonsets', async (request) => {
    const { namespace } = parseOr400(z.object({ namespace: z.string().min(1).optional() }), query(request), 'query');
    return cp.listDaemonSets(namespace);
  });

  app.get('/api/v1/namespaces/:ns/daemonsets', async (request) => {
    const { ns } = request.params as { ns: string };
    return cp.listDaemonSets(ns);
  });

  app.get(dsPath, async (request) => {
    const ref = refOf(request);
    const ds = await cp.getDaemonSet(ref);
    if (ds === undefined) throw await daemonSetNotFound(cp, ref);
    return ds;
  });

  app.get(`${dsPath}/history`, async (request) => {
    const ref = refOf(request);
    const { all } = parseOr400(z.object({ all: booleanQuery }), query(request), 'query');
    const history = await cp.history(ref, { all });
    if (history === undefined) throw await daemonSetNotFound(cp, ref);
    return history;
  });

  app.get(`${dsPath}/events`, async (request) => {
    const ref = refOf(request);
    const [ds, events] = await Promise.all([cp.getDaemonSet(ref), cp.events(ref)]);
    if (ds === undefined) throw await daemonSetNotFound(cp, ref);
    return events;
  });

  app.get('/api/v1/nodes', async () => cp.listNodes());

  app.get('/api/v1/pods', async (request) => {
    const filter = parseOr400(
      z.object({ namespace: z.string().min(1).optional(), daemonSet: z.string().min(1).optional() }),
      query(request),
      'query',
    );
    return cp.listPods({
      ...(filter.namespace === undefined ? {} : { namespace: filter.namespace }),
      ...(filter.daemonSet === undefined ? {} : { daemonSet: filter.daemonSet }),
    });
  });

  app.get('/api/v1/namespaces/:ns/pods', async (request) => {
    const { ns } = request.params as { ns: string };
    const { daemonSet } = parseOr400(z.object({ daemonSet: z.string().min(1).optional() }), query(request), 'query');
    return cp.listPods({ namespace: ns, ...(daemonSet === undefined ? {} : { daemonSet }) });
  });

  app.get('/api/v1/sim/timeline', async (request) => {
    const q = parseOr400(timelineQuerySchema, query(request), 'query');
    return cp.timeline({
      ...(q.sinceTs === undefined ? {} : { sinceTs: q.sinceTs }),
      ...(q.afterId === undefined ? {} : { afterId: q.afterId }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
  });

  app.delete('/api/v1/namespaces/:ns/pods/:name', { preHandler: guard }, async (request) => {
    const { ns, name: pod } = request.params as { ns: string; name: string };
    if (!(await cp.deletePod(ns, pod))) {
      throw new HttpError(404, 'NotFound', `pods "${pod}" not found in namespace "${ns}"`);
    }
    return { kind: 'pod', namespace: ns, name: pod, deleted: true };
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`${dsPath}/${action}`, { preHandler: guard }, async (request) => {
      const ref = refOf(request);
      if (!(await cp.setPaused(ref, action === 'pause'))) throw await daemonSetNotFound(cp, ref);
      return { kind: 'DaemonSet', namespace: ref.namespace, name: ref.name, paused: action === 'pause' };
    });
  }

  app.post('/api/v1/nodes', { preHandler: guard }, async (request, reply) => {
    const node = parseOr400(nodeInputSchema, request.body, 'node');
    await cp.addNode(node);
    return reply.code(201).send(node);
  });

  app.delete('/api/v1/nodes/:name', { preHandler: guard }, async (request) => {
    const { name: node } = request.params as { name: string };
    if (!(await cp.removeNode(node))) throw new HttpError(404, 'NotFound', `nodes "${node}" not found`);
    return { kind: 'node', name: node, deleted: true };
  });

  app.post('/api/v1/nodes/:name/ready', { preHandler: guard }, async (request) => {
    const { name: node } = request.params as { name: string };
    const { ready } = parseOr400(nodeReadySchema, request.body, 'body');
    if (!(await cp.setNodeReady(node, ready))) throw new HttpError(404, 'NotFound', `nodes "${node}" not found`);
    return { kind: 'node', name: node, ready };
  });

  app.post('/api/v1/sync', { preHandler: guard }, async (request, reply) => {
    const body = parseOr400(syncSchema, request.body, 'body');
    const commit = body?.commit;
    await cp.requestSync({ reason: 'api', ...(commit === undefined ? {} : { commit }) });
    return reply.code(202).send({ accepted: true });
  });
}
