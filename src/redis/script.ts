/**
 * A Lua script run by SHA (`EVALSHA`), loaded on demand (`EVAL` after `NOSCRIPT`), without mutating the caller's
 * ioredis instance (as `defineCommand` would). Sending the SHA instead of the source on every call spares Redis
 * hashing the source each time and keeps hot paths (a node job's bookkeeping) to a few dozen bytes.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Redis connection scripts can run on: a single node or a Cluster client. */
export type ScriptRedis = Redis | Cluster;

/** One Lua script, identified by its SHA1. */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Runs the script; loads it first when the server does not know it (restart, `SCRIPT FLUSH`, new node). */
  async run(redis: ScriptRedis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return redis.eval(this.source, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }
}
