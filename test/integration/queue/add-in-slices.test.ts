/**
 * Slices on the way at once keep their order on a real BullMQ queue: one Worker taking one job at
 * a time gets them back in the order of the list.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { addInSlices } from '../../../src/queue/add-in-slices.js';
import { TEST_REDIS_URL, cleanupPrefix, connectTestRedis, uniquePrefix } from '../../helpers/redis.js';

let redis: Redis;
before(() => {
  redis = connectTestRedis();
});
after(async () => {
  await redis.quit();
});

test('1,300 jobs added four slices at a time come out in list order', async (t) => {
  const prefix = uniquePrefix('slices');
  t.after(() => cleanupPrefix(redis, prefix));
  const connection = { url: TEST_REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue('slices', { connection, prefix: `{${prefix}}` });
  t.after(() => queue.close());
  const ids = Array.from({ length: 1300 }, (_, i) => `job|${i}`);

  await addInSlices(ids, (slice) =>
    queue.addBulk(slice.map((id) => ({ name: 'n', data: {}, opts: { jobId: id, removeOnComplete: true } }))),
  );
  assert.equal(await queue.getWaitingCount(), ids.length);

  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const worker = new Worker(
      'slices',
      async (job) => {
        seen.push(job.id!);
        if (seen.length === ids.length) resolve();
      },
      { connection, prefix: `{${prefix}}`, concurrency: 1 },
    );
    worker.on('error', reject);
    t.after(() => worker.close());
  });
  assert.deepEqual(seen, ids);
});
