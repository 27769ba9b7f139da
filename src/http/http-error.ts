/**
 * The one place errors become HTTP answers: `{ error: <Reason>, message }` with a status code. Reasons are
 * Kubernetes-style (`NotFound`, `BadRequest`, `Unauthorized`, …). Stack traces never leave the process, and messages
 * go through {@link redactUrl} so URL credentials never do either.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { redactUrl } from '../observability/logger.js';

/** Body of every error answer. */
export interface ErrorBody {
  error: string;
  message: string;
  /** Validation issues, for 400 answers to bad bodies or queries. */
  issues?: { path: string; message: string }[];
}

/** An error with its HTTP status and reason, thrown by route handlers. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Status and reason for the stable `code`s of dsctl's own errors (`src/errors.ts`, `src/fleet/errors.ts`). */
const CODE_STATUS: Readonly<Record<string, readonly [number, string]>> = {
  DSCTL_FLEET_INVALID_INPUT: [400, 'BadRequest'],
  DSCTL_FLEET_NODE_NOT_FOUND: [404, 'NotFound'],
  DSCTL_FLEET_POD_EXISTS: [409, 'AlreadyExists'],
  DSCTL_FLEET_STATE_INVALID: [500, 'InternalError'],
  DSCTL_INVALID_DAEMONSET: [422, 'Invalid'],
};

/** Reason names for the statuses fastify itself produces. */
const STATUS_REASON: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  408: 'Timeout',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

function hasCode(err: unknown): err is { code: string; message: string; retryable?: unknown } {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * Maps any thrown value to a status and body:
 * - {@link HttpError}: as thrown;
 * - dsctl errors (`code` `DSCTL_*`): by code; unknown codes are 503 when `retryable`, else 500, with their message
 *   (dsctl messages carry no secrets by design, and are redacted again here);
 * - fastify's own 4xx errors (bad JSON, body too large, unsupported media type): their status and message;
 * - anything else: 500 with a generic message (the error is logged, not returned).
 */
export function toErrorAnswer(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof HttpError) {
    return {
      status: err.statusCode,
      body: {
        error: err.reason,
        message: redactUrl(err.message),
        ...(err.issues === undefined ? {} : { issues: err.issues }),
      },
    };
  }
  if (hasCode(err) && err.code.startsWith('DSCTL_')) {
    const known = CODE_STATUS[err.code];
    const [status, reason] = known ?? (err.retryable === true ? [503, 'ServiceUnavailable'] : [500, 'InternalError']);
    return { status, body: { error: reason, message: redactUrl(err.message) } };
  }
  const fastifyError = err as Partial<FastifyError>;
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500 &&
    typeof fastifyError.message === 'string'
  ) {
    const status = fastifyError.statusCode;
    return {
      status,
      body: { error: STATUS_REASON[status] ?? 'BadRequest', message: redactUrl(fastifyError.message) },
    };
  }
  return { status: 500, body: { error: 'InternalError', message: 'internal server error (see the worker log)' } };
}

/** Installs the error and not-found handlers on `app`. 5xx answers are logged with the error; 4xx at debug. */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler(async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toErrorAnswer(err);
    if (status >= 500) logger.error({ err, method: request.method, url: request.url }, 'request failed');
    else logger.debug({ status, reason: body.error, method: request.method, url: request.url }, body.message);
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? request.url;
    return reply
      .code(404)
      .send({ error: 'NotFound', message: `no route ${request.method} ${path} (the API lives under /api/v1)` });
  });
}
