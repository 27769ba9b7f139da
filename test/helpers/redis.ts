/**
 * Real-Redis helpers for integration tests: a unique key prefix per test, a connection, and cleanup of that prefix.
 * Never FLUSHALL/FLUSHDB: other test files and engineers share the server.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** `REDIS_URL`, or the local default. */
export const TEST_REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * A prefix no other run uses, e.g. `dsctl-test-fleet-3f9a1c2e`. Safe inside a hash tag (`{...}`) and in BullMQ
 * queue prefixes (no `:`, braces or spaces).
 */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 40);
  return `dsctl-test-${safe}-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/** A new ioredis connection to the test Redis (`maxRetriesPerRequest: null`, as BullMQ workers require). */
export function connectTestRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
}

/** Escapes Redis glob characters so `prefix` matches literally in `SCAN MATCH`. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\^]/g, (c) => `\\${c}`);
}

/**
 * Deletes every key starting with `{prefix}` or `prefix` (SCAN + UNLINK in batches).
 * @returns how many keys were deleted.
 */
export async function cleanupPrefix(redis: Redis, prefix: string): Promise<number> {
  if (prefix.length === 0) throw new Error('cleanupPrefix: empty prefix would delete everything');
  let deleted = 0;
  for (const pattern of [`{${escapeGlob(prefix)}}*`, `${escapeGlob(prefix)}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}
