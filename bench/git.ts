/**
 * scanRatio and rebuildMs: the Git side alone (GitSync on a real repository and the Redis store).
 */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisHistoryStore } from '../src/revision/store.js';
import { GitSync } from '../src/source/git-sync.js';
import { SimpleGitSource, repoCacheDir } from '../src/source/simple-git-source.js';
import { REDIS_URL, benchPrefix, cleanupPrefix, commit, daemonSet, git, percentile, sleep, tempDir } from './lib.js';

/** A repository of `files` manifests (one DaemonSet each), written with one fast-import. */
function manifestRepo(files: number): string {
  const dir = tempDir(`scan${files}`);
  git(dir, ['init', '--quiet', '-b', 'main']);
  let stream = 'commit refs/heads/main\ncommitter bench <bench@dsctl.invalid> 1700000000 +0000\ndata 7\ninitial\n';
  for (let i = 0; i < files; i++) {
    const body = daemonSet(`ds-${i}`, 'registry.example/agent:1');
    stream += `M 100644 inline manifests/ds-${i}.yaml\ndata ${Buffer.byteLength(body)}\n${body}\n`;
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: stream, maxBuffer: 1 << 28 });
  git(dir, ['checkout', '--quiet', 'main']);
  return dir;
}

async function syncer(repo: string, redis: Redis, prefix: string): Promise<GitSync> {
  const source = new SimpleGitSource({ url: repo, branch: 'main', dir: repoCacheDir(tempDir('clone'), repo) });
  return new GitSync({ source, store: new RedisHistoryStore(redis, { prefix }), path: 'manifests' });
}

/** A repository of `files` manifests, synced once, ready to time one-file commits. */
async function scanSubject(files: number, redis: Redis) {
  const prefix = benchPrefix('scan');
  const repo = manifestRepo(files);
  const sync = await syncer(repo, redis, prefix);
  await sync.sync();
  let n = 0;
  return {
    prefix,
    /** Commits a change to one file, then times the sync of that one commit. */
    async oneCommitMs(): Promise<number> {
      n++;
      commit(repo, { 'manifests/ds-0.yaml': daemonSet('ds-0', `registry.example/agent:${n + 1}`) }, `change ${n}`);
      // Pushes come seconds apart: let the source get ready for the next one (it starts its next
      // `git log` ahead, 100 ms after a sync) and the machine settle, as between real pushes.
      await sleep(400);
      const started = performance.now();
      const result = await sync.sync();
      const ms = performance.now() - started;
      if (result.commits !== 1) throw new Error(`bench: expected 1 commit, synced ${result.commits}`);
      return ms;
    },
  };
}

/**
 * Median time of syncing one commit that changes one file, in a repository of 10 and of 10,000
 * files. The rounds alternate between the two, so the machine's drift falls on both alike.
 */
export async function measureScan(rounds = 25): Promise<{ smallMs: number; largeMs: number; ratio: number }> {
  const redis = new Redis(REDIS_URL);
  const small = await scanSubject(10, redis);
  const large = await scanSubject(10_000, redis);
  const smallTimes: number[] = [];
  const largeTimes: number[] = [];
  for (let i = 0; i < rounds; i++) {
    smallTimes.push(await small.oneCommitMs());
    largeTimes.push(await large.oneCommitMs());
  }
  await cleanupPrefix(redis, small.prefix);
  await cleanupPrefix(redis, large.prefix);
  await redis.quit();
  if (process.env.DSCTL_BENCH_DEBUG)
    console.error(
      `scan: small ${smallTimes.map(Math.round).join(' ')} / large ${largeTimes.map(Math.round).join(' ')}`,
    );
  const smallMs = percentile(smallTimes, 50);
  const largeMs = percentile(largeTimes, 50);
  return { smallMs, largeMs, ratio: largeMs / smallMs };
}

/** Rebuilding the history of `commits` commits over `daemonSets` DaemonSets from an empty store. */
export async function measureRebuild(commits = 5000, daemonSets = 50): Promise<{ ms: number; revisions: number }> {
  const dir = tempDir('rebuild');
  git(dir, ['init', '--quiet', '-b', 'main']);
  const lines: string[] = [];
  for (let c = 0; c < commits; c++) {
    const ds = c % daemonSets;
    const body = daemonSet(`ds-${ds}`, `registry.example/agent:${Math.floor(c / daemonSets) + 1}`);
    lines.push(
      `commit refs/heads/main\ncommitter bench <bench@dsctl.invalid> ${1700000000 + c} +0000\ndata ${`c${c}`.length}\nc${c}\n` +
        (c > 0 ? '' : '') +
        `M 100644 inline manifests/ds-${ds}.yaml\ndata ${Buffer.byteLength(body)}\n${body}\n`,
    );
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: lines.join(''), maxBuffer: 1 << 28 });
  const redis = new Redis(REDIS_URL);
  const prefix = benchPrefix('rebuild');
  const sync = await syncer(dir, redis, prefix);
  const started = performance.now();
  const result = await sync.sync();
  const ms = performance.now() - started;
  if (result.commits !== commits) throw new Error(`bench: rebuilt ${result.commits} of ${commits} commits`);
  await cleanupPrefix(redis, prefix);
  await redis.quit();
  return { ms, revisions: result.changes.length };
}
