/**
 * What a webhook delivery means for dsctl: a ping, a push to some branch of some repository, or something else.
 * Pure: takes the provider, the lowercase headers and the parsed JSON body.
 */
import type { WebhookProvider } from './verify-signature.js';

/** The facts of a delivery dsctl acts on. */
export interface WebhookDelivery {
  kind: 'ping' | 'push' | 'other';
  /** The provider's event name (`push`, `Push Hook`, `ping`, …), when it sent one. */
  event?: string;
  /** `refs/heads/<branch>` for a branch push. */
  ref?: string;
  /** Commit sha the branch points to after the push. */
  after?: string;
  /** The push deleted the ref. */
  deleted: boolean;
  /** Clone URLs, SSH URLs and web URLs of the repository, as sent. */
  repoUrls: string[];
  /** `owner/name` style names of the repository, as sent. */
  repoFullNames: string[];
}

/** Delivery id headers per provider, lowercase, first present wins. */
export const DELIVERY_HEADERS: Readonly<Record<WebhookProvider, readonly string[]>> = {
  github: ['x-github-delivery'],
  gitea: ['x-gitea-delivery', 'x-forgejo-delivery', 'x-gogs-delivery'],
  gitlab: ['x-gitlab-event-uuid', 'x-gitlab-webhook-uuid'],
  generic: ['x-delivery-id'],
};

/** Event name headers per provider, lowercase, first present wins. */
const EVENT_HEADERS: Readonly<Record<WebhookProvider, readonly string[]>> = {
  github: ['x-github-event'],
  gitea: ['x-gitea-event', 'x-forgejo-event', 'x-gogs-event', 'x-github-event'],
  gitlab: ['x-gitlab-event'],
  generic: ['x-event', 'x-github-event'],
};

const ZERO_SHA = /^0+$/;

/** Reads `headers[name]` for the first name present (single-valued headers only). */
function header(headers: Readonly<Record<string, string | string[] | undefined>>, names: readonly string[]) {
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

/** The provider's delivery id, for deduplication. */
export function deliveryIdOf(
  provider: WebhookProvider,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  return header(headers, DELIVERY_HEADERS[provider]);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(...values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string' && v.length > 0);
}

/** Interprets a delivery; `body` is the parsed JSON (anything). */
export function parseWebhookDelivery(
  provider: WebhookProvider,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: unknown,
): WebhookDelivery {
  const event = header(headers, EVENT_HEADERS[provider]);
  const obj = isRecord(body) ? body : {};
  const ref = typeof obj['ref'] === 'string' ? obj['ref'] : undefined;
  const after = typeof obj['after'] === 'string' ? obj['after'] : undefined;
  const deleted = obj['deleted'] === true || (after !== undefined && ZERO_SHA.test(after));
  const repoUrls: string[] = [];
  const repoFullNames: string[] = [];

  switch (provider) {
    case 'github':
    case 'gitea': {
      const repo = isRecord(obj['repository']) ? obj['repository'] : {};
      repoUrls.push(...strings(repo['clone_url'], repo['ssh_url'], repo['html_url'], repo['git_url'], repo['url']));
      repoFullNames.push(...strings(repo['full_name']));
      break;
    }
    case 'gitlab': {
      const project = isRecord(obj['project']) ? obj['project'] : {};
      const repo = isRecord(obj['repository']) ? obj['repository'] : {};
      repoUrls.push(
        ...strings(project['git_http_url'], project['git_ssh_url'], project['web_url'], project['http_url']),
        ...strings(project['ssh_url'], repo['git_http_url'], repo['git_ssh_url'], repo['url'], repo['homepage']),
      );
      repoFullNames.push(...strings(project['path_with_namespace']));
      break;
    }
    case 'generic': {
      const repo = obj['repository'];
      if (typeof repo === 'string') {
        if (looksLikeUrl(repo)) repoUrls.push(repo);
        else repoFullNames.push(repo);
      } else if (isRecord(repo)) {
        repoUrls.push(...strings(repo['url'], repo['clone_url'], repo['ssh_url']));
        repoFullNames.push(...strings(repo['full_name'], repo['name']));
      }
      break;
    }
  }

  let kind: WebhookDelivery['kind'];
  const eventLower = event?.toLowerCase();
  if (eventLower === 'ping' || (provider === 'generic' && ('zen' in obj || ref === undefined))) kind = 'ping';
  else if (provider === 'github' || provider === 'gitea')
    kind = eventLower === undefined || eventLower === 'push' ? 'push' : 'other';
  else if (provider === 'gitlab') kind = eventLower === 'push hook' || eventLower === undefined ? 'push' : 'other';
  else kind = eventLower === undefined || eventLower === 'push' ? 'push' : 'other';

  return {
    kind,
    ...(event === undefined ? {} : { event }),
    ...(ref === undefined ? {} : { ref }),
    ...(after === undefined ? {} : { after }),
    deleted,
    repoUrls,
    repoFullNames,
  };
}

/** `scheme://…` or scp-style `user@host:path`. */
function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^[^@/\s]+@[^:/\s]+:/.test(text);
}

/**
 * A repository address reduced to `host/path` for comparison: scheme, credentials, port, a trailing `/` and a
 * trailing `.git` are dropped; host and path are lowercased (GitHub, GitLab and Gitea treat paths case-insensitively).
 * So `https://user:tok@GitHub.com/Org/Repo.git/`, `ssh://git@github.com:22/org/repo` and `git@github.com:org/repo.git`
 * all become `github.com/org/repo`. Anything that is not a URL (a local path) is only trimmed the same way.
 */
export function normalizeRepoUrl(address: string): string {
  const text = address.trim();
  const trimPath = (p: string) =>
    p
      .replace(/\/+$/, '')
      .replace(/\.git$/i, '')
      .replace(/\/+$/, '')
      .replace(/^\/+/, '')
      .toLowerCase();
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/\/)(.+)$/.exec(text);
  if (scp !== null && !/^[a-z]:[\\/]/i.test(text) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return `${scp[1]!.toLowerCase()}/${trimPath(scp[2]!)}`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      if (url.protocol === 'file:') return trimPath(url.pathname);
      return `${url.hostname.toLowerCase()}/${trimPath(decodeURIComponent(url.pathname))}`;
    } catch {
      // fall through: compare as text
    }
  }
  return trimPath(text);
}

/** `owner/name` lowercased, without surrounding slashes or `.git`. */
export function normalizeFullName(name: string): string {
  return name
    .trim()
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/i, '')
    .toLowerCase();
}

/** The repository dsctl follows, as the webhook routes match it. */
export interface WebhookRepo {
  /** Clone URLs (HTTPS and/or SSH) of the repository. */
  cloneUrls: string[];
  /** `owner/name` (GitLab: `group/subgroup/name`). */
  fullNames: string[];
}

/**
 * Whether a delivery is about the configured repository: any of its URLs equals a configured clone URL after
 * {@link normalizeRepoUrl}, or any of its names equals a configured full name (case-insensitive). An unset `repo`
 * matches every repository (the branch check still applies).
 */
export function matchesRepo(delivery: Pick<WebhookDelivery, 'repoUrls' | 'repoFullNames'>, repo?: WebhookRepo) {
  if (repo === undefined) return true;
  const urls = new Set(repo.cloneUrls.map(normalizeRepoUrl));
  const names = new Set(repo.fullNames.map(normalizeFullName));
  return (
    delivery.repoUrls.some((u) => urls.has(normalizeRepoUrl(u))) ||
    delivery.repoFullNames.some((n) => names.has(normalizeFullName(n)))
  );
}
