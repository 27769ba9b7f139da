/**
 * Routes of changes written to Git (issue 6, contract in `src/gitops/types.ts`): `rollback`, `image` and `paused`
 * under `/api/v1/namespaces/:ns/daemonsets/:name/`. Mutations: they need the API token (or a loopback client when
 * the worker has none). 501 when the control plane cannot write Git.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ContainerNotFoundError,
  DaemonSetNotInGitError,
  GitPushRejectedError,
  GitWriteError,
  ManifestEditError,
  NoPreviousRevisionError,
  RevisionNotFoundError,
} from '../../gitops/errors.js';
import type { DaemonSetKey, GitOpsApi } from '../../gitops/types.js';
import { InvalidSourceInputError } from '../../source/errors.js';
import type { ControlPlane } from '../../worker/control-plane.js';
import { requireMutationAuth } from '../auth.js';
import { HttpError } from '../http-error.js';
import { parseOr400 } from './api.js';

export interface GitOpsRoutesOptions {
  controlPlane: ControlPlane;
  token?: string;
}

const rollbackSchema = z.strictObject({
  toRevision: z.number().int().min(0).optional(),
  dryRun: z.boolean().optional(),
});
const imageSchema = z.strictObject({
  images: z
    .record(
      z.string().regex(/^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/, 'must be a container name or *'),
      z.string().min(1),
    )
    .refine((m) => Object.keys(m).length > 0, 'at least one container'),
  dryRun: z.boolean().optional(),
});
const pausedSchema = z.strictObject({ paused: z.boolean(), dryRun: z.boolean().optional() });

/** Registers the routes on `app`. */
export function registerGitOpsRoutes(app: FastifyInstance, opts: GitOpsRoutesOptions): void {
  const guard = requireMutationAuth(opts.token);
  const base = '/api/v1/namespaces/:ns/daemonsets/:name';
  const api = (): GitOpsApi => {
    const gitOps = opts.controlPlane.gitOps;
    if (gitOps === undefined) {
      throw new HttpError(
        501,
        'NotImplemented',
        'this dsctl worker does not write to Git (no Git write access configured)',
      );
    }
    return gitOps;
  };

  app.post(`${base}/rollback`, { preHandler: guard }, async (request) => {
    const body = parseOr400(rollbackSchema, request.body ?? {}, 'body');
    return mapErrors(() => api().rollback(refOf(request), body));
  });

  app.post(`${base}/image`, { preHandler: guard }, async (request) => {
    const body = parseOr400(imageSchema, request.body, 'body');
    return mapErrors(() => api().setImage(refOf(request), body));
  });

  app.post(`${base}/paused`, { preHandler: guard }, async (request) => {
    const body = parseOr400(pausedSchema, request.body, 'body');
    return mapErrors(() => api().setPaused(refOf(request), body));
  });
}

function refOf(request: FastifyRequest): DaemonSetKey {
  const params = request.params as { ns: string; name: string };
  return { namespace: params.ns, name: params.name };
}

/** dsctl's Git-write errors → HTTP answers whose message the CLI prints as is. */
async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (err instanceof DaemonSetNotInGitError) throw new HttpError(404, 'NotFound', err.message);
    if (err instanceof RevisionNotFoundError) throw new HttpError(404, 'RevisionNotFound', err.message);
    if (err instanceof NoPreviousRevisionError) throw new HttpError(409, 'NoPreviousRevision', err.message);
    if (err instanceof ContainerNotFoundError || err instanceof ManifestEditError) {
      throw new HttpError(422, 'Invalid', err.message);
    }
    if (err instanceof GitPushRejectedError) throw new HttpError(409, 'GitPushRejected', err.message);
    if (err instanceof InvalidSourceInputError) throw new HttpError(400, 'BadRequest', err.message);
    if (err instanceof GitWriteError) throw new HttpError(503, 'GitWriteFailed', err.message);
    throw err;
  }
}
