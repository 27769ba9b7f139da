/**
 * The BullMQ dashboard (bull-board) at `/admin/queues`, behind the same auth as mutating API
 * calls: it can retry and remove jobs.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { requireMutationAuth } from './auth.js';

export const DASHBOARD_PATH = '/admin/queues';

export async function mountQueueDashboard(
  app: FastifyInstance,
  queues: Queue[],
  token: string | undefined,
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireMutationAuth(token));
    await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
