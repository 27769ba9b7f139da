/**
 * Who may change things through the API. Reads are open; mutations need either the bearer token (when the worker has
 * one) or, without a token, a loopback client. Webhooks authenticate by signature instead (`verify-signature.ts`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';
import { constantTimeEqual } from './verify-signature.js';

/**
 * Whether `address` is a loopback address: 127.0.0.0/8, `::1`, or an IPv4-mapped `::ffff:127.x.x.x`.
 * Behind a reverse proxy on the same host every client looks like loopback: configure a token there.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.trim().toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice('::ffff:'.length) : a;
  const parts = v4.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** Whether an `Authorization` header carries `Bearer <token>` (scheme case-insensitive, constant-time compare). */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || token.length === 0) return false;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) return false;
  return constantTimeEqual(match[1]!, token);
}

/**
 * A fastify `preHandler` that lets a mutating request through or throws 401/403:
 * - with `token`: `Authorization: Bearer <token>` is required (401 otherwise);
 * - without: only loopback clients may mutate (403 otherwise).
 */
export function requireMutationAuth(token: string | undefined) {
  return async function mutationAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (token !== undefined && token.length > 0) {
      if (bearerTokenMatches(request.headers.authorization, token)) return;
      void reply.header('www-authenticate', 'Bearer realm="dsctl"');
      throw new HttpError(
        401,
        'Unauthorized',
        request.headers.authorization === undefined
          ? 'this call changes state and needs "Authorization: Bearer <token>" (dsctl: set DSCTL_TOKEN)'
          : 'the bearer token is not the worker API token (dsctl: check DSCTL_TOKEN)',
      );
    }
    if (isLoopbackAddress(request.ip)) return;
    throw new HttpError(
      403,
      'Forbidden',
      'this worker has no API token, so only loopback clients may change state: start the worker with an API token ' +
        'and send it as "Authorization: Bearer <token>" (dsctl: set DSCTL_TOKEN)',
    );
  };
}
