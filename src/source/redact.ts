/**
 * Keeps credentials out of messages and logs (like Flux's `sanitized.go`): a repository URL may
 * carry a token in its userinfo, and git repeats the URL in its errors.
 */

const SCHEME_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/**
 * The URL with any userinfo of a `scheme://user:pass@host` URL replaced by `***`.
 * scp-like addresses (`git@host:org/repo`) and local paths carry no secret and are returned as is.
 */
export function redactUrl(url: string): string {
  return url.replace(SCHEME_USERINFO, '$1***@');
}

/**
 * A git error message fit for logs and conditions: URL credentials removed everywhere (also when
 * git prints the URL in its own words), `Authorization` headers blanked, trimmed to `maxLength`.
 */
export function sanitizeMessage(message: string, secrets: readonly string[] = [], maxLength = 500): string {
  let out = message;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('***');
  out = redactUrl(out)
    .replace(/(authorization:\s*)(basic|bearer|token)?\s*[^\s'"]+/gi, '$1***')
    .replace(/\s+/g, ' ')
    .trim();
  return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
}

/** The userinfo of a URL (`user:pass`), which must never appear in output. */
export function urlSecrets(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]+)@/i.exec(url);
  if (!m?.[1]) return [];
  const userinfo = m[1];
  const colon = userinfo.indexOf(':');
  // `user:password`: the password is the secret; a lone `token@` is a secret itself.
  const secret = colon >= 0 ? userinfo.slice(colon + 1) : userinfo;
  return [userinfo, secret, safeDecode(secret)].filter((s) => s.length >= 4);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
