/**
 * Push webhooks: `POST /hooks/{github,gitlab,gitea,generic}`.
 *
 * An encapsulated plugin: inside it every content type is read as raw bytes (up to `bodyLimitBytes`, 413 beyond), so
 * the signature is checked over exactly the bytes the sender signed. Flow per delivery:
 * 1. no secret configured → 404 "webhooks are disabled" (answered before the body is read);
 * 2. wrong or missing signature/token → 401, nothing else happens;
 * 3. unparsable body → 400; ping → 200 `{ ok: true, event: 'ping' }`;
 * 4. not a push, or a push to another branch or repository, or a branch deletion → 200 `{ ignored: true, reason }`;
 * 5. a delivery id seen before by this process → 200 `{ duplicate: true }`;
 * 6. otherwise `controlPlane.requestSync({ reason: 'webhook', commit, deliveryId })` (which only enqueues a job and
 *    deduplicates by delivery id in Redis) and 202 `{ accepted: true }`; if enqueueing fails → 503 so the sender
 *    retries.
 * Every outcome is counted in `dsctl_webhooks_total{provider,result}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.js';
import { redactUrl } from '../../observability/logger.js';
import type { ControlPlane } from '../../worker/control-plane.js';
import { DeliveryCache } from '../delivery-cache.js';
import { HttpError } from '../http-error.js';
import { verifyWebhook, type WebhookProvider } from '../verify-signature.js';
import { deliveryIdOf, matchesRepo, parseWebhookDelivery, type WebhookRepo } from '../webhook-payload.js';

/** Options of {@link webhookRoutes}. */
export interface WebhookRoutesOptions {
  controlPlane: ControlPlane;
  metrics: Metrics;
  logger: Logger;
  /** Shared secret; webhooks are disabled without it. */
  secret?: string;
  /** Branch whose pushes trigger a sync (without `refs/heads/`). */
  branch: string;
  /** The followed repository; unset matches any repository. */
  repo?: WebhookRepo;
  /** Largest accepted body in bytes. @defaultValue 1 MiB */
  bodyLimitBytes?: number;
  /** Delivery ids remembered for `{ duplicate: true }`. @defaultValue a 1000-entry LRU */
  deliveries?: DeliveryCache;
}

/** The providers and their paths under `/hooks`. */
export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = ['github', 'gitlab', 'gitea', 'generic'];

/** Header names as documented by each provider, for messages. */
const SIGNATURE_HEADER_NAMES: Readonly<Record<WebhookProvider, string>> = {
  github: 'X-Hub-Signature-256',
  gitea: 'X-Gitea-Signature',
  gitlab: 'X-Gitlab-Token',
  generic: 'X-Signature-256',
};

/** Default body limit of webhook deliveries: 1 MiB. */
export const DEFAULT_WEBHOOK_BODY_LIMIT = 1024 * 1024;

/** Registers the webhook routes in their own encapsulation context; mount with `app.register(webhookRoutes, opts)`. */
export async function webhookRoutes(app: FastifyInstance, opts: WebhookRoutesOptions): Promise<void> {
  const bodyLimit = opts.bodyLimitBytes ?? DEFAULT_WEBHOOK_BODY_LIMIT;
  const deliveries = opts.deliveries ?? new DeliveryCache();
  const { controlPlane, metrics, logger, branch } = opts;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  for (const provider of WEBHOOK_PROVIDERS) {
    app.post(
      `/hooks/${provider}`,
      {
        bodyLimit,
        onRequest: async (_request: FastifyRequest, reply: FastifyReply) => {
          if (opts.secret === undefined || opts.secret.length === 0) {
            return reply.code(404).send({
              error: 'NotFound',
              message: 'webhooks are disabled on this worker: configure a webhook secret to enable /hooks/*',
            });
          }
          return undefined;
        },
      },
      async (request, reply) => {
        const secret = opts.secret ?? '';
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const headers = request.headers;
        const count = (result: Parameters<Metrics['countWebhook']>[1]) => metrics.countWebhook(provider, result);

        if (!verifyWebhook(provider, raw, secret, headers)) {
          count('unauthorized');
          logger.warn({ provider, ip: request.ip }, 'webhook delivery with a wrong or missing signature');
          throw new HttpError(
            401,
            'Unauthorized',
            provider === 'gitlab'
              ? 'missing or wrong X-Gitlab-Token'
              : `missing or invalid ${SIGNATURE_HEADER_NAMES[provider]} signature`,
          );
        }

        let body: unknown;
        try {
          body = decodeBody(raw, headers['content-type']);
        } catch (err) {
          count('invalid');
          throw new HttpError(400, 'BadRequest', `webhook body is not valid JSON: ${(err as Error).message}`);
        }

        const delivery = parseWebhookDelivery(provider, headers, body);
        const deliveryId = deliveryIdOf(provider, headers);
        const ignore = (reason: string) => {
          count('ignored');
          logger.info({ provider, deliveryId, reason }, 'webhook delivery ignored');
          return reply.code(200).send({ ignored: true, reason });
        };

        if (delivery.kind === 'ping') {
          count('ping');
          return reply.code(200).send({ ok: true, event: 'ping' });
        }
        if (delivery.kind === 'other') return ignore(`event "${delivery.event ?? ''}" is not a push`);
        const wanted = `refs/heads/${branch}`;
        if (delivery.ref !== wanted) {
          return ignore(`push to ${delivery.ref === undefined ? 'an unknown ref' : delivery.ref}, not ${wanted}`);
        }
        if (delivery.deleted) return ignore(`push deleted ${wanted}`);
        if (!matchesRepo(delivery, opts.repo)) {
          const which = delivery.repoFullNames[0] ?? delivery.repoUrls[0];
          return ignore(
            `repository ${which === undefined ? '(none given)' : redactUrl(which)} is not the repository this worker follows`,
          );
        }

        const cacheKey = deliveryId === undefined ? undefined : `${provider}:${deliveryId}`;
        if (cacheKey !== undefined && deliveries.has(cacheKey)) {
          count('duplicate');
          return reply.code(200).send({ duplicate: true, deliveryId });
        }
        if (cacheKey !== undefined) deliveries.add(cacheKey);
        try {
          await controlPlane.requestSync({
            reason: 'webhook',
            ...(delivery.after === undefined ? {} : { commit: delivery.after }),
            ...(deliveryId === undefined ? {} : { deliveryId }),
          });
        } catch (err) {
          if (cacheKey !== undefined) deliveries.delete(cacheKey);
          logger.error({ err, provider, deliveryId }, 'could not enqueue the sync for a webhook delivery');
          throw new HttpError(503, 'ServiceUnavailable', 'could not enqueue a sync; retry the delivery later');
        }
        count('accepted');
        logger.info({ provider, deliveryId, commit: delivery.after }, 'webhook push accepted');
        return reply.code(202).send({
          accepted: true,
          ...(deliveryId === undefined ? {} : { deliveryId }),
          ...(delivery.after === undefined ? {} : { commit: delivery.after }),
        });
      },
    );
  }
}

/** JSON, or GitHub's `application/x-www-form-urlencoded` form with the JSON in `payload`. Empty body → `{}`. */
function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return {};
  const text = raw.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded') === true) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new Error('form body without a payload field');
    return JSON.parse(payload) as unknown;
  }
  return JSON.parse(text) as unknown;
}
