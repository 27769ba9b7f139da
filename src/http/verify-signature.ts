/**
 * Webhook authentication for the four providers dsctl accepts (ecosystem.md §6.1). Pure functions over the raw body
 * bytes: no I/O, no framework.
 *
 * | provider | header | scheme |
 * | --- | --- | --- |
 * | GitHub | `X-Hub-Signature-256: sha256=<hex>` | HMAC-SHA256(secret, body) |
 * | Gitea / Forgejo / Gogs | `X-Gitea-Signature: <hex>` | HMAC-SHA256(secret, body), bare hex |
 * | GitLab | `X-Gitlab-Token: <secret>` | the shared secret itself |
 * | generic | `X-Signature-256: sha256=<hex>` | HMAC-SHA256(secret, body) |
 *
 * Every comparison is constant-time: both sides are hashed to 32 bytes first, so neither the content nor the length
 * of the expected value leaks through timing. Hex digests are accepted in either case.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Which signature header format a provider uses. */
export type WebhookProvider = 'github' | 'gitea' | 'gitlab' | 'generic';

/** HMAC-SHA256 of `body` under `secret`, lowercase hex. */
export function hmacSha256Hex(secret: string | Buffer, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Constant-time equality of two byte strings of any lengths: compares their SHA-256 digests with
 * `crypto.timingSafeEqual`, so the time taken depends on neither the content nor the lengths.
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  // Equal digests of different inputs would need a SHA-256 collision; the length check only guards that.
  return timingSafeEqual(da, db) && Buffer.byteLength(a) === Buffer.byteLength(b);
}

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Checks `<prefix><hex HMAC-SHA256>` against the body. `prefix` is `sha256=` (GitHub, generic) or empty (Gitea).
 * False for a missing or empty header, a wrong prefix, a digest that is not 64 hex digits, or a wrong digest.
 */
export function verifyHmacSha256(
  body: Buffer,
  secret: string,
  header: string | undefined,
  prefix: 'sha256=' | '',
): boolean {
  if (secret.length === 0 || header === undefined) return false;
  const value = header.trim();
  if (!value.startsWith(prefix)) return false;
  const hex = value.slice(prefix.length);
  if (!HEX_SHA256.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return constantTimeEqual(Buffer.from(hex, 'hex'), expected);
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex>`. The legacy SHA-1 `X-Hub-Signature` is never accepted. */
export function verifyGithubSignature(body: Buffer, secret: string, header: string | undefined): boolean {
  return verifyHmacSha256(body, secret, header, 'sha256=');
}

/**
 * Gitea / Forgejo / Gogs: `X-Gitea-Signature: <hex>` (bare hex). A `sha256=` prefix, as some proxies add, is also
 * accepted.
 */
export function verifyGiteaSignature(body: Buffer, secret: string, header: string | undefined): boolean {
  if (header?.trim().startsWith('sha256=') === true) return verifyHmacSha256(body, secret, header, 'sha256=');
  return verifyHmacSha256(body, secret, header, '');
}

/** GitLab: `X-Gitlab-Token` carries the secret itself (no HMAC; replayable, so use HTTPS). */
export function verifyGitlabToken(secret: string, header: string | undefined): boolean {
  if (secret.length === 0 || header === undefined || header.length === 0) return false;
  return constantTimeEqual(header, secret);
}

/** Generic: `X-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
export function verifyGenericSignature(body: Buffer, secret: string, header: string | undefined): boolean {
  return verifyHmacSha256(body, secret, header, 'sha256=');
}

/** The header each provider authenticates with (lowercase, as Node delivers headers). */
export const SIGNATURE_HEADERS: Readonly<Record<WebhookProvider, readonly string[]>> = {
  github: ['x-hub-signature-256'],
  gitea: ['x-gitea-signature', 'x-forgejo-signature', 'x-gogs-signature'],
  gitlab: ['x-gitlab-token'],
  generic: ['x-signature-256'],
};

/**
 * Verifies a delivery for `provider` given its lowercase headers and raw body. The first present header of
 * {@link SIGNATURE_HEADERS} for the provider is used.
 */
export function verifyWebhook(
  provider: WebhookProvider,
  body: Buffer,
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): boolean {
  const header = firstHeader(headers, SIGNATURE_HEADERS[provider]);
  switch (provider) {
    case 'github':
      return verifyGithubSignature(body, secret, header);
    case 'gitea':
      return verifyGiteaSignature(body, secret, header);
    case 'gitlab':
      return verifyGitlabToken(secret, header);
    case 'generic':
      return verifyGenericSignature(body, secret, header);
  }
}

/** The first of `names` present in `headers` (a repeated header counts as absent: ambiguous). */
export function firstHeader(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  names: readonly string[],
): string | undefined {
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return undefined;
  }
  return undefined;
}
