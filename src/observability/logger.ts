/**
 * The process logger: pino with secrets redacted, plus {@link redactUrl} for URLs and messages that may carry
 * credentials (`https://user:token@host/repo.git`). Everything that logs a URL or an error message built from one goes
 * through `redactUrl` first (Flux `sanitized.go`).
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

/** Paths pino replaces with `[Redacted]` (fast-redact syntax). */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  '*.webhookSecret',
  'req.headers.authorization',
  'req.headers["x-gitlab-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-gitlab-token"]',
];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level. @defaultValue `process.env.LOG_LEVEL` is not read here (config does that); `'info'` */
  level?: Level | 'silent';
  /** `name` field on every line, e.g. `dsctl-worker`. */
  name?: string;
  /** Where lines go. @defaultValue stdout */
  destination?: DestinationStream;
}

/**
 * A pino logger that redacts `authorization`, tokens, passwords, secrets and the webhook token header wherever they
 * appear one level deep, and request headers of fastify's request serializer.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? 'info',
    ...(opts.name === undefined ? {} : { name: opts.name }),
    redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}

/** `scheme://userinfo@` anywhere in a text; userinfo has no `/`, `@` or whitespace. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s?#]+@/gi;

/**
 * Removes `user:pass@` (or a bare `token@`) from every URL in `text`, which may be one URL or a whole message that
 * contains URLs. scp-style Git addresses (`git@github.com:org/repo.git`) carry no secret and are left as they are.
 *
 * @example redactUrl('https://x-access-token:abc@github.com/org/repo.git') === 'https://github.com/org/repo.git'
 */
export function redactUrl(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1');
}
