/**
 * Git child processes for the hot read-only commands, without simple-git: {@link runGit} runs one
 * command, {@link CatFileBatch} keeps one `git cat-file --batch` process per clone and answers
 * object reads over its pipes, so a sync reads blobs (and peels the branch head) without a spawn.
 *
 * The callers keep the safety rules of simple-git-source.ts: arguments are fixed strings,
 * validated commit ids and validated paths; the environment is an explicit allow-list.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { PATH_CHARACTERS } from './validate.js';

export interface GitRunOptions {
  /** Working directory (the bare clone). */
  readonly cwd: string;
  /** The whole child environment (never a spread of `process.env`). */
  readonly env: Record<string, string>;
  /** `-c name=value` settings, prepended to the command. */
  readonly config: readonly string[];
  /** No output on stdout or stderr for this long kills git. */
  readonly stallTimeoutMs: number;
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
}

/** A git command that failed; the message is git's stderr (unsanitized: callers redact it). */
export class GitCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

function configArgs(config: readonly string[]): string[] {
  return config.flatMap((c) => ['-c', c]);
}

/** Runs `git <args>` and resolves with its stdout; rejects with {@link GitCommandError} on failure. */
export function runGit(args: readonly string[], options: GitRunOptions): Promise<Buffer> {
  return startGit(args, options).run(options.input);
}

/** A git process already started, waiting for its input before it does anything. */
export interface StartedGit {
  /** Writes `input` (when given) to stdin, closes it, and resolves with stdout once git exits 0. */
  run(input?: string): Promise<Buffer>;
  /** Whether the process is gone (then `run` would fail: start another). */
  readonly exited: boolean;
  kill(): void;
}

/**
 * Starts `git <args>` now and lets the caller give it its input later. Starting a process costs
 * 8 to 13 ms on a small VM (measured here), most of a push's way to its first node job: a source
 * keeps one `git log --stdin` started ahead, so a sync only writes the range to it. Until `run`,
 * the process does not keep Node's event loop alive and no stall timer runs.
 */
export function startGit(args: readonly string[], options: Omit<GitRunOptions, 'input'>): StartedGit {
  const child = spawn('git', [...configArgs(options.config), ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let exited = false;
  let running = false;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  let spawnError: Error | undefined;
  let onClose: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  let closed: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const arm = (): void => {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      child.kill('SIGKILL');
    }, options.stallTimeoutMs);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    out.push(chunk);
    arm();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err.push(chunk);
    arm();
  });
  child.stdin.on('error', () => undefined); // EPIPE when git exits early: reported by 'close'
  child.on('error', (e) => {
    spawnError = e;
    exited = true;
  });
  child.on('close', (code, signal) => {
    exited = true;
    closed = { code, signal };
    onClose?.(code, signal);
  });
  // Waiting for input must not keep a process alive that has nothing else to do.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { unref?: () => void }).unref?.();

  return {
    get exited() {
      return exited;
    },
    kill() {
      if (!exited) child.kill('SIGKILL');
    },
    run(input?: string): Promise<Buffer> {
      running = true;
      child.ref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as { ref?: () => void }).ref?.();
      return new Promise<Buffer>((resolve, reject) => {
        const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
          clearTimeout(timer);
          const stderr = Buffer.concat(err).toString('utf8').trim();
          if (spawnError) reject(spawnError);
          else if (stalled)
            reject(new GitCommandError(`git ${args[0]} stalled for ${options.stallTimeoutMs} ms`, code));
          else if (code !== 0) {
            reject(new GitCommandError(stderr || `git ${args[0]} failed (${signal ?? `exit code ${code}`})`, code));
          } else resolve(Buffer.concat(out));
        };
        if (closed) return settle(closed.code, closed.signal);
        onClose = settle;
        child.once('error', (e) => reject(e));
        arm();
        child.stdin.end(input);
      });
    },
  };
}

/** One object of a `cat-file --batch` answer. */
export interface BatchObject {
  readonly oid: string;
  readonly type: string;
  readonly data: Buffer;
}

export interface CatFileBatchOptions extends Omit<GitRunOptions, 'input'> {
  /** The process is stopped after this long without a request. @defaultValue 5 min */
  readonly idleMs?: number;
  /**
   * A process older than this is replaced after its current request (a long-lived reader keeps
   * packs deleted by a repack open, and so their disk space). @defaultValue 15 min
   */
  readonly maxAgeMs?: number;
}

interface Pending {
  readonly count: number;
  readonly results: (BatchObject | undefined)[];
  resolve(results: (BatchObject | undefined)[]): void;
  reject(err: Error): void;
}

interface BatchProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly startedAt: number;
  readonly exited: Promise<void>;
  dead: boolean;
  stderr: string;
  /** Unparsed output. */
  chunks: Buffer[];
  length: number;
  /** Header of the object whose content is being read. */
  header?: { oid: string; type: string; size: number };
  pending?: Pending;
  stall?: NodeJS.Timeout;
}

/** An object id, peeled (`^{commit}`, `^{tree}`) or followed by a path (`:<path>`, of validatePath's characters). */
const OBJECT_NAME = new RegExp(`^[0-9a-f]{40}(?:[0-9a-f]{24})?(?:\\^\\{(?:commit|tree)\\}|:${PATH_CHARACTERS}+)?$`);

/**
 * A long-lived `git cat-file --batch` (started on first use, one request at a time). It never
 * keeps Node alive: its handles are unref'ed while idle. A failed or stalled process is killed and
 * the next request starts a new one. Objects written after it started are found (git re-reads the
 * object directories when an object is not in the packs it knows).
 */
export class CatFileBatch {
  private proc?: BatchProcess;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer?: NodeJS.Timeout;
  private readonly idleMs: number;
  private readonly maxAgeMs: number;

  constructor(private readonly options: CatFileBatchOptions) {
    this.idleMs = options.idleMs ?? 300_000;
    this.maxAgeMs = options.maxAgeMs ?? 900_000;
  }

  /** Process id of the running `git cat-file --batch`, if any (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.proc && !this.proc.dead ? this.proc.child.pid : undefined;
  }

  /**
   * The objects named (full object ids, optionally suffixed `^{commit}` or `^{tree}` to peel, or
   * `:<path>` for the object at a path of a commit or tree), in order;
   * `undefined` for a missing one. Rejects when the process fails (the next call starts afresh).
   */
  get(names: readonly string[]): Promise<(BatchObject | undefined)[]> {
    for (const name of names) {
      if (!OBJECT_NAME.test(name)) return Promise.reject(new Error(`invalid object name ${JSON.stringify(name)}`));
    }
    const run = this.queue.then(() => this.request(names));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the process, failing a request in flight (a later {@link get} starts a new one). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const proc = this.proc;
    if (proc) await this.stop(proc);
  }

  private async request(names: readonly string[]): Promise<(BatchObject | undefined)[]> {
    if (names.length === 0) return [];
    clearTimeout(this.idleTimer);
    const proc = this.proc && !this.proc.dead ? this.proc : this.start();
    try {
      return await new Promise<(BatchObject | undefined)[]>((resolve, reject) => {
        proc.pending = { count: names.length, results: [], resolve, reject };
        setRef(proc.child, true);
        this.arm(proc);
        proc.child.stdin.write(`${names.join('\n')}\n`);
      });
    } finally {
      clearTimeout(proc.stall);
      if (!proc.dead) {
        setRef(proc.child, false);
        if (Date.now() - proc.startedAt > this.maxAgeMs) void this.stop(proc);
        else {
          this.idleTimer = setTimeout(() => void this.stop(proc), this.idleMs);
          this.idleTimer.unref();
        }
      }
    }
  }

  private start(): BatchProcess {
    const child = spawn('git', [...configArgs(this.options.config), 'cat-file', '--batch'], {
      cwd: this.options.cwd,
      env: this.options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let exited!: () => void;
    const proc: BatchProcess = {
      child,
      startedAt: Date.now(),
      exited: new Promise<void>((r) => (exited = r)),
      dead: false,
      stderr: '',
      chunks: [],
      length: 0,
    };
    child.stdout.on('data', (chunk: Buffer) => this.onData(proc, chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      proc.stderr = (proc.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.stdin.on('error', () => undefined); // EPIPE when git died: reported by 'close'
    child.on('error', (e) => this.fail(proc, e));
    child.on('close', (code, signal) => {
      exited();
      const reason = proc.stderr.trim() || `git cat-file --batch exited (${signal ?? `exit code ${code}`})`;
      this.fail(proc, new GitCommandError(reason, code));
    });
    setRef(child, false);
    this.proc = proc;
    return proc;
  }

  private arm(proc: BatchProcess): void {
    clearTimeout(proc.stall);
    proc.stall = setTimeout(() => {
      this.fail(proc, new GitCommandError(`git cat-file --batch stalled for ${this.options.stallTimeoutMs} ms`, null));
    }, this.options.stallTimeoutMs);
  }

  private onData(proc: BatchProcess, chunk: Buffer): void {
    if (proc.dead) return;
    proc.chunks.push(chunk);
    proc.length += chunk.length;
    if (proc.pending) this.arm(proc);
    // Waiting for the rest of a large object: no copy until it is all there.
    if (proc.header && proc.length < proc.header.size + 1) return;
    let buf = proc.chunks.length === 1 ? proc.chunks[0]! : Buffer.concat(proc.chunks);
    let pos = 0;
    try {
      for (;;) {
        const pending = proc.pending;
        if (!pending) {
          if (pos < buf.length) throw new Error('git cat-file --batch printed output nobody asked for');
          break;
        }
        if (!proc.header) {
          const nl = buf.indexOf(0x0a, pos);
          if (nl < 0) break;
          const line = buf.toString('utf8', pos, nl);
          pos = nl + 1;
          const parts = line.split(' ');
          // `<name> missing`: a name with a path may itself hold spaces.
          if (parts.length >= 2 && (line.endsWith(' missing') || line.endsWith(' ambiguous'))) {
            pending.results.push(undefined);
          } else {
            const size = Number(parts[2]);
            if (parts.length !== 3 || !Number.isSafeInteger(size) || size < 0) {
              throw new Error(`malformed git cat-file output: ${line.slice(0, 80)}`);
            }
            proc.header = { oid: parts[0]!, type: parts[1]!, size };
          }
        }
        if (proc.header) {
          const { oid, type, size } = proc.header;
          if (buf.length - pos < size + 1) break;
          pending.results.push({ oid, type, data: buf.subarray(pos, pos + size) });
          pos += size + 1;
          proc.header = undefined;
        }
        if (pending.results.length === pending.count) {
          proc.pending = undefined;
          pending.resolve(pending.results);
        }
      }
    } catch (err) {
      this.fail(proc, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    buf = buf.subarray(pos);
    proc.chunks = buf.length > 0 ? [buf] : [];
    proc.length = buf.length;
  }

  private fail(proc: BatchProcess, err: Error): void {
    if (!proc.dead) {
      proc.dead = true;
      clearTimeout(proc.stall);
      proc.child.kill('SIGKILL');
    }
    if (this.proc === proc) this.proc = undefined;
    const pending = proc.pending;
    proc.pending = undefined;
    pending?.reject(err);
  }

  private async stop(proc: BatchProcess): Promise<void> {
    if (this.proc === proc) this.proc = undefined;
    if (!proc.dead) {
      proc.dead = true;
      // End of input makes git exit; a stuck one is killed. Waited for with the handles ref'ed.
      setRef(proc.child, true);
      proc.child.stdin.end();
      const kill = setTimeout(() => proc.child.kill('SIGKILL'), 2000);
      kill.unref();
      await proc.exited;
      clearTimeout(kill);
    }
  }
}

/** Whether the child (and its pipes) keep the Node event loop alive. */
function setRef(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as Handle[]) {
    if (on) handle.ref?.();
    else handle.unref?.();
  }
}

interface Handle {
  ref?(): void;
  unref?(): void;
}
