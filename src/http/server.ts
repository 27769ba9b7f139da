/**
 * The worker's HTTP server: health, the JSON API (`/api/v1`), Prometheus metrics and push webhooks.
 *
 * Routes:
 * - `GET /healthz` (200 while the process serves), `GET /readyz` (200 when `controlPlane.ready()`, else 503);
 * - `GET /metrics` (Prometheus text of {@link Metrics.registry});
 * - `/api/v1/...` (see `routes/api.ts`): reads are open; mutations need the bearer token, or a loopback client when
 *   no token is configured;
 * - `POST /hooks/{github,gitlab,gitea,generic}` (see `routes/webhook.ts`), authenticated by signature.
 * Every error answer is `{ error, message }` (see `http-error.ts`).
 */
import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { ControlPlane } from '../worker/control-plane.js';
import { DeliveryCache } from './delivery-cache.js';
import { installErrorHandlers } from './http-error.js';
import { registerApiRoutes } from './routes/api.js';
import { registerGitOpsRoutes } from './routes/gitops.js';
import { DEFAULT_WEBHOOK_BODY_LIMIT, webhookRoutes } from './routes/webhook.js';
import type { WebhookRepo } from './webhook-payload.js';

/** Options of {@link buildServer}. */
export interface ServerOptions {
  controlPlane: ControlPlane;
  /** API token: when set, every mutating call needs `Authorization: Bearer <token>`; else only loopback may mutate. */
  token?: string;
  /** Shared webhook secret; without it `/hooks/*` answer 404 "webhooks are disabled". */
  webhookSecret?: string;
  /**
   * The repository pushes must come from (clone/SSH URLs and `owner/name`s, compared normalised, see
   * `normalizeRepoUrl`). Unset: pushes from any repository count (the branch must still match).
   */
  webhookRepo?: WebhookRepo;
  /** Branch whose pushes trigger a sync, e.g. `main`. */
  branch: string;
  metrics: Metrics;
  logger: Logger;
  /** Largest request body in bytes (webhooks and API). @defaultValue 1 MiB */
  bodyLimitBytes?: number;
  /** Delivery-id LRU of the webhook routes (injectable for tests). @defaultValue 1000 entries */
  webhookDeliveries?: DeliveryCache;
  /**
   * Mounts more routes, e.g. bull-board. Called after dsctl's routes, on the root instance. Routes mounted here have
   * no auth of their own: bull-board can retry and remove jobs, so mount it read-only or behind a guard
   * (`requireMutationAuth` from `./auth.js`).
   */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
}

/** Builds (does not start) the server. Call `listen()` on the result, and `close()` on shutdown. */
export function buildServer(opts: ServerOptions): FastifyInstance {
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_WEBHOOK_BODY_LIMIT;
  const app = fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit,
    // The CLI polls (`rollout status`) every second: request lines only for changes; errors are logged by our handler.
    logController: new LogController({
      disableRequestLogging: (req: unknown) => {
        const method = (req as { method?: string }).method;
        return method === 'GET' || method === 'HEAD';
      },
    }),
    return503OnClosing: true,
  });

  installErrorHandlers(app, opts.logger);

  app.addHook('onResponse', async (request: FastifyRequest, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    opts.metrics.observeHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    let ready = false;
    try {
      ready = await opts.controlPlane.ready();
    } catch (err) {
      opts.logger.warn({ err }, 'readiness check failed');
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await opts.metrics.exposition();
    return reply.type(opts.metrics.contentType).send(text);
  });

  registerApiRoutes(app, {
    controlPlane: opts.controlPlane,
    ...(opts.token === undefined ? {} : { token: opts.token }),
  });

  registerGitOpsRoutes(app, {
    controlPlane: opts.controlPlane,
    ...(opts.token === undefined ? {} : { token: opts.token }),
  });

  void app.register(webhookRoutes, {
    controlPlane: opts.controlPlane,
    metrics: opts.metrics,
    logger: opts.logger,
    branch: opts.branch,
    bodyLimitBytes: bodyLimit,
    deliveries: opts.webhookDeliveries ?? new DeliveryCache(),
    ...(opts.webhookSecret === undefined ? {} : { secret: opts.webhookSecret }),
    ...(opts.webhookRepo === undefined ? {} : { repo: opts.webhookRepo }),
  });

  if (opts.extraRoutes !== undefined) {
    const extra = opts.extraRoutes;
    void app.register(async (instance) => {
      await extra(instance);
    });
  }

  return app;
}
