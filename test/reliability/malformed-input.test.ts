/**
 * Reliability (issue 7): malformed input against a REAL worker (in-process: real Git, Redis,
 * BullMQ, simulated fleet), in two families.
 *
 * Manifest commits: every file of `test/fixtures/manifests/malformed/` (its content copied into
 * the repository at test time, the DaemonSet renamed to the case's own), plus wrong kinds, alias
 * bombs, a 2 MiB file, 20,000 documents, invalid strategies, a malformed JSON file, a symlink to
 * a host file, duplicate names across two files, a commit deleting the whole path and a
 * force-push. Each case breaks its own DaemonSet (one file each, so a failure cannot cascade) and,
 * in the same commit, changes another DaemonSet in another file. For each case: the broken
 * DaemonSet keeps its last good revision, none of its pods is deleted or replaced, the other
 * DaemonSet rolls out within its budget, and the API shows the error (`ManifestInvalid`
 * condition naming the commit and file:line:column of one of the parser's errors).
 *
 * Webhook deliveries: bad signatures, wrong prefixes, truncated/empty/huge bodies, content
 * types, unknown providers, GitLab tokens, Gitea uppercase hex, replayed delivery ids. For each:
 * the status code and message, whether a sync started (`dsctl_git_polls_total`; refused ones
 * must not, and the pending commit must stay out of the history), and that the worker serves.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseManifests } from '../../src/manifest/index.js';
import type { WorkerHandle } from '../../src/worker/main.js';
import {
  commitFiles,
  makeBareRemote,
  makeRepo,
  push,
  removeTempDirs,
  resetHard,
  tempDir,
  type TestRepo,
} from '../helpers/git.js';
import { cleanupPrefix, connectTestRedis, uniquePrefix } from '../helpers/redis.js';
import { daemonSetYaml, getDaemonSet, sleep, startTestWorker, timeline, waitFor } from '../helpers/worker.js';
import { assertDrillOutcome, assertServing, condition, deletedPods, history, pods, waitRolledOut } from './support.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/manifests/malformed/', import.meta.url));
const SECRET = 'webhook-secret-malformed-input';
const GITLAB_TOKEN = SECRET;
const NODES = 3;
const OTHER_BUDGET = 2;
const ROOT = 'manifests';

interface Expectation {
  code?: string;
  line?: number;
  column?: number;
  field?: string;
  messageIncludes?: string;
}

interface ManifestCase {
  /** DaemonSet name (in `default`) the case breaks; its file is `manifests/cases/<id>.yaml`. */
  id: string;
  title: string;
  /** The broken content of the case's file (the DaemonSet's own name substituted in). */
  broken?: string;
  /** Other files to write in the same commit (paths under the repository root; null deletes). */
  extra?: Record<string, string | null>;
  /** The fixture's own expectation on the parser's errors. */
  expect?: Expectation;
  /** What the condition message must match when it is not one of the parser's errors. */
  message?: RegExp;
  /** Run the case with a custom flow. */
  special?: 'symlink' | 'delete-path' | 'force-push';
  todo?: string;
}

const good = (name: string, image = 'registry.example/agent:1.0') => daemonSetYaml({ name, image, maxUnavailable: 1 });
const caseFile = (id: string) => `${ROOT}/cases/${id}.yaml`;

/**
 * Fixtures whose condition shows the sync's own wording rather than one of the parser's errors
 * (the condition shows one error, the last one recorded).
 */
const FIXTURE_MESSAGES: Record<string, RegExp> = {
  // Split per document, the sync reports the repeated name itself (document-cache.ts).
  f75: /manifests\/cases\/f75\.yaml:18:1: DaemonSet default\/f75 is defined twice in manifests\/cases\/f75\.yaml \(lines 1 and 18\)/,
};

function fixtureCases(): ManifestCase[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const id = `f${file.slice(0, 2)}`;
      const text = readFileSync(join(FIXTURES, file), 'utf8')
        .replaceAll('filebeat-ds', id)
        .replace(/^ {2}name: x$/gm, `  name: ${id}`)
        .replace(/\{name: x,/g, `{name: ${id},`);
      const expect = JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.yaml$/, '.expect.json')), 'utf8'));
      const message = FIXTURE_MESSAGES[id];
      return {
        id,
        title: `fixture ${file}`,
        broken: text,
        expect: expect as Expectation,
        ...(message ? { message } : {}),
      };
    });
}

/** A DaemonSet whose containers' args are an alias bomb of `levels` levels of 10. */
function aliasBomb(name: string, levels: number): string {
  const lines = [`x0: &a0 [${Array.from({ length: 10 }, () => 'lol').join(', ')}]`];
  for (let i = 1; i < levels; i++)
    lines.push(`x${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n${good(name).replace('          image:', `          args: *a${levels - 1}\n          image:`)}`;
}

function withStrategy(name: string, strategy: string): string {
  return good(name).replace(/ {2}updateStrategy:\n(?: {4}.*\n)+/, strategy);
}

function extraCases(): ManifestCase[] {
  return [
    {
      id: 'k01',
      title: 'wrong kind: Deployment',
      broken: good('k01').replace('kind: DaemonSet', 'kind: Deployment'),
      message:
        /manifests\/cases\/k01\.yaml:2:7: kind: Deployment: DaemonSet default\/k01 is no longer a DaemonSet in this document; dsctl keeps running the DaemonSet\. To remove it, delete the document/,
    },
    {
      id: 'k02',
      title: 'wrong kind: DaemonSets (typo)',
      broken: good('k02').replace('kind: DaemonSet', 'kind: DaemonSets'),
      message: /kind/,
    },
    {
      id: 'k03',
      title: 'wrong kind: "DaemonSet " (trailing space)',
      broken: good('k03').replace('kind: DaemonSet', 'kind: "DaemonSet "'),
      message: /kind/,
    },
    {
      id: 'k04',
      title: 'wrong kind: lowercase daemonset',
      broken: good('k04').replace('kind: DaemonSet', 'kind: daemonset'),
    },
    { id: 'k05', title: 'wrong apiVersion: apps/v2', broken: good('k05').replace('apps/v1', 'apps/v2') },
    { id: 'a01', title: 'alias bomb (10^9) in container args', broken: aliasBomb('a01', 9) },
    { id: 'a02', title: 'alias bomb (10^5) in container args', broken: aliasBomb('a02', 5) },
    {
      id: 's01',
      title: 'a 2 MiB file',
      broken: `${good('s01', 'registry.example/agent:2.0')}# ${'padding '.repeat((2 * 1024 * 1024) / 8)}\n`,
      expect: { code: 'TOO_LARGE', line: 1, column: 1 },
    },
    {
      id: 's02',
      title: '20,000 documents',
      broken: `${good('s02', 'registry.example/agent:2.0')}---\n${'kind: ConfigMap\n---\n'.repeat(20_000)}`,
      expect: { code: 'TOO_LARGE' },
    },
    {
      id: 'st1',
      title: 'invalid strategy: updateStrategy is a string',
      broken: withStrategy('st1', '  updateStrategy: RollingUpdate\n'),
    },
    {
      id: 'st2',
      title: 'invalid strategy: maxUnavailable "abc"',
      broken: withStrategy(
        'st2',
        '  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: abc\n',
      ),
    },
    {
      id: 'st3',
      title: 'invalid strategy: rollingUpdate is a list',
      broken: withStrategy('st3', '  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate: [1, 2]\n'),
    },
    {
      id: 'st4',
      title: 'invalid strategy: maxSurge 1 and maxUnavailable 0 as strings of percent 0%',
      broken: withStrategy(
        'st4',
        '  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 0%\n      maxSurge: 0%\n',
      ),
    },
    {
      id: 'j01',
      title: 'a truncated JSON manifest',
      broken: undefined,
      extra: {
        [`${ROOT}/cases/j01.json`]: JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: { name: 'j01' },
        }).slice(0, 50),
      },
    },
    {
      id: 'ln1',
      title: 'the file replaced by a symlink to /etc/passwd',
      special: 'symlink',
      message:
        /manifests\/cases\/ln1\.yaml:1:1: manifests\/cases\/ln1\.yaml is a symbolic link; dsctl reads regular files only \(a link may point outside the repository\)/,
    },
    {
      id: 'd01',
      title: 'duplicate name across two files (the copy sorts after the owner)',
      extra: { [`${ROOT}/cases/d01-copy.yaml`]: good('d01', 'registry.example/agent:9.9') },
      message:
        /DaemonSet default\/d01 is defined in manifests\/cases\/d01\.yaml and manifests\/cases\/d01-copy\.yaml; keeping the one in manifests\/cases\/d01\.yaml/,
    },
    {
      id: 'd02',
      title: 'duplicate name across two files (the copy sorts before the owner)',
      extra: { [`${ROOT}/cases/a-d02-copy.yaml`]: good('d02', 'registry.example/agent:9.9') },
      message:
        /DaemonSet default\/d02 is defined in manifests\/cases\/d02\.yaml and manifests\/cases\/a-d02-copy\.yaml; keeping the one in manifests\/cases\/d02\.yaml/,
    },
    { id: 'p01', title: 'a commit deleting the whole path', special: 'delete-path' },
    { id: 'fp1', title: 'a force-push whose new head breaks a manifest', special: 'force-push' },
  ];
}

const MANIFEST_CASES: ManifestCase[] = [...fixtureCases(), ...extraCases()];
const CASE_IDS = MANIFEST_CASES.filter((c) => c.special !== 'delete-path' && c.id !== 'j01').map((c) => c.id);

/** Sum of a Prometheus counter's series (optionally filtered by a label substring). */
function counter(metrics: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const hmac = (body: string | Buffer, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const sha1 = (body: string | Buffer) => createHmac('sha1', SECRET).update(body).digest('hex');
let accepted = false;
let deliveries = 0;

interface HookRequest {
  path: string;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | Buffer;
}

interface HookCase {
  title: string;
  request(pending: string): HookRequest;
  status: number;
  /** Pattern the answer body must match. */
  answer?: RegExp;
  /** The delivery must start a sync (else: none may start). */
  sync: boolean;
  /** `[provider, result]` of dsctl_webhooks_total that must count the delivery. */
  metric?: [string, string];
}

const pushBody = (after: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ref: 'refs/heads/main', after, repository: { full_name: 'acme/daemonsets' }, ...extra });

/** A GitHub delivery; `sign` overrides the signature header (undefined: none). */
function github(
  body: string | Buffer,
  opts: {
    sign?: string | null;
    event?: string;
    id?: string;
    type?: string | null;
    extra?: Record<string, string>;
  } = {},
): HookRequest {
  const headers: Record<string, string> = {
    'x-github-event': opts.event ?? 'push',
    'x-github-delivery': opts.id ?? `gh-${++deliveries}`,
    ...opts.extra,
  };
  if (opts.type !== null) headers['content-type'] = opts.type ?? 'application/json';
  if (opts.sign !== null) headers['x-hub-signature-256'] = opts.sign ?? `sha256=${hmac(body)}`;
  return { path: '/hooks/github', headers, body };
}

function gitlab(after: string, token: string | null, id = `gl-${++deliveries}`): HookRequest {
  const body = JSON.stringify({ ref: 'refs/heads/main', after, project: { path_with_namespace: 'acme/daemonsets' } });
  return {
    path: '/hooks/gitlab',
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-event-uuid': id,
      ...(token === null ? {} : { 'x-gitlab-token': token }),
    },
    body,
  };
}

function gitea(after: string, sign: (body: string) => string): HookRequest {
  const body = pushBody(after);
  return {
    path: '/hooks/gitea',
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': 'push',
      'x-gitea-delivery': `gt-${++deliveries}`,
      'x-gitea-signature': sign(body),
    },
    body,
  };
}

function generic(after: string, sign: (body: string) => string): HookRequest {
  const body = JSON.stringify({ ref: 'refs/heads/main', after, repository: 'acme/daemonsets' });
  return {
    path: '/hooks/generic',
    headers: {
      'content-type': 'application/json',
      'x-delivery-id': `ge-${++deliveries}`,
      'x-signature-256': sign(body),
    },
    body,
  };
}

const UNAUTHORIZED = /"error":"Unauthorized","message":"missing or invalid X-Hub-Signature-256 signature"/;
const REPLAYED_GITHUB_ID = 'gh-replayed-delivery';
const REPLAYED_GITLAB_ID = 'gl-replayed-delivery';

const HOOK_CASES: HookCase[] = [
  // Refused: nothing may start.
  {
    title: 'github: wrong signature',
    request: (p) => github(pushBody(p), { sign: `sha256=${'0'.repeat(64)}` }),
    status: 401,
    answer: UNAUTHORIZED,
    sync: false,
    metric: ['github', 'unauthorized'],
  },
  {
    title: 'github: right digest behind the wrong prefix sha1=',
    request: (p) => github(pushBody(p), { sign: `sha1=${hmac(pushBody(p))}` }),
    status: 401,
    answer: UNAUTHORIZED,
    sync: false,
  },
  {
    title: 'github: right digest behind an uppercase prefix SHA256=',
    request: (p) => github(pushBody(p), { sign: `SHA256=${hmac(pushBody(p))}` }),
    status: 401,
    answer: UNAUTHORIZED,
    sync: false,
  },
  {
    title: 'github: bare digest without prefix',
    request: (p) => github(pushBody(p), { sign: hmac(pushBody(p)) }),
    status: 401,
    sync: false,
  },
  { title: 'github: no signature', request: (p) => github(pushBody(p), { sign: null }), status: 401, sync: false },
  {
    title: 'github: only the legacy SHA-1 X-Hub-Signature, valid',
    request: (p) => github(pushBody(p), { sign: null, extra: { 'x-hub-signature': `sha1=${sha1(pushBody(p))}` } }),
    status: 401,
    sync: false,
  },
  {
    title: 'github: signed with another secret',
    request: (p) => github(pushBody(p), { sign: `sha256=${hmac(pushBody(p), 'not-the-secret')}` }),
    status: 401,
    sync: false,
  },
  {
    title: 'github: signature of another body',
    request: (p) => github(pushBody(p), { sign: `sha256=${hmac(pushBody(p, { forced: true }))}` }),
    status: 401,
    sync: false,
  },
  {
    title: 'github: a truncated signature (63 hex digits)',
    request: (p) => github(pushBody(p), { sign: `sha256=${hmac(pushBody(p)).slice(0, 63)}` }),
    status: 401,
    sync: false,
  },
  {
    title: 'github: an empty body, unsigned',
    request: () => github('', { sign: null }),
    status: 401,
    sync: false,
  },
  {
    title: 'github: truncated JSON body with a valid signature',
    request: (p) => github(pushBody(p).slice(0, 40)),
    status: 400,
    answer: /"error":"BadRequest","message":"webhook body is not valid JSON/,
    sync: false,
    metric: ['github', 'invalid'],
  },
  {
    title: 'github: binary garbage with a valid signature',
    request: () => github(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x22])),
    status: 400,
    sync: false,
  },
  {
    title: 'github: an empty body with a valid signature',
    request: () => github(''),
    status: 200,
    answer: /"ignored":true,"reason":"push to an unknown ref, not refs\/heads\/main"/,
    sync: false,
    metric: ['github', 'ignored'],
  },
  {
    title: 'github: JSON null with a valid signature',
    request: () => github('null'),
    status: 200,
    answer: /"ignored":true/,
    sync: false,
  },
  {
    title: 'github: a JSON array with a valid signature',
    request: () => github('[1,2,3]'),
    status: 200,
    answer: /"ignored":true/,
    sync: false,
  },
  {
    title: 'github: 100,000 nested arrays with a valid signature',
    request: () => github(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
    status: 200,
    answer: /"ignored":true/,
    sync: false,
  },
  {
    title: 'github: a body over the 1 MiB limit with a valid signature',
    request: (p) => github(pushBody(p, { padding: 'x'.repeat(1024 * 1024) })),
    status: 413,
    answer: /"error":"RequestEntityTooLarge"/,
    sync: false,
  },
  {
    title: 'github: a body over the 1 MiB limit, unsigned',
    request: (p) => github(pushBody(p, { padding: 'x'.repeat(1024 * 1024) }), { sign: null }),
    status: 413,
    sync: false,
  },
  {
    title: 'github: form content type whose body is JSON, valid signature',
    request: (p) => github(pushBody(p), { type: 'application/x-www-form-urlencoded' }),
    status: 400,
    answer: /form body without a payload field/,
    sync: false,
  },
  {
    title: 'github: a push to another branch',
    request: (p) => github(pushBody(p, { ref: 'refs/heads/feature' })),
    status: 200,
    answer: /"reason":"push to refs\/heads\/feature, not refs\/heads\/main"/,
    sync: false,
  },
  {
    title: 'github: a push from another repository',
    request: (p) => github(pushBody(p, { repository: { full_name: 'mallory/daemonsets' } })),
    status: 200,
    answer: /repository mallory\/daemonsets is not the repository this worker follows/,
    sync: false,
  },
  {
    title: 'github: the branch deleted',
    request: () => github(pushBody('0'.repeat(40), { deleted: true })),
    status: 200,
    answer: /push deleted refs\/heads\/main/,
    sync: false,
  },
  {
    title: 'github: ping',
    request: () => github(JSON.stringify({ zen: 'Keep it logically awesome.' }), { event: 'ping' }),
    status: 200,
    answer: /"ok":true,"event":"ping"/,
    sync: false,
    metric: ['github', 'ping'],
  },
  {
    title: 'github: an issues event',
    request: (p) => github(pushBody(p), { event: 'issues' }),
    status: 200,
    answer: /event \\"issues\\" is not a push/,
    sync: false,
  },
  {
    title: 'unknown provider /hooks/bitbucket',
    request: (p) => ({ ...github(pushBody(p)), path: '/hooks/bitbucket' }),
    status: 404,
    sync: false,
  },
  {
    title: 'GET /hooks/github',
    request: () => ({ path: '/hooks/github', method: 'GET', headers: {} }),
    status: 404,
    sync: false,
  },
  {
    title: 'gitlab: wrong token',
    request: (p) => gitlab(p, 'wrong-token'),
    status: 401,
    answer: /missing or wrong X-Gitlab-Token/,
    sync: false,
    metric: ['gitlab', 'unauthorized'],
  },
  {
    title: 'gitlab: the token in another case',
    request: (p) => gitlab(p, GITLAB_TOKEN.toUpperCase()),
    status: 401,
    sync: false,
  },
  { title: 'gitlab: no token', request: (p) => gitlab(p, null), status: 401, sync: false },
  {
    title: 'gitea: wrong signature (uppercase hex)',
    request: (p) => gitea(p, () => 'AB'.repeat(32)),
    status: 401,
    answer: /X-Gitea-Signature/,
    sync: false,
  },
  {
    title: 'generic: right digest behind the wrong prefix sha512=',
    request: (p) => generic(p, (b) => `sha512=${hmac(b)}`),
    status: 401,
    sync: false,
  },
  // Accepted: each starts a sync.
  {
    title: 'github: a signed push',
    request: (p) => github(pushBody(p), { id: REPLAYED_GITHUB_ID }),
    status: 202,
    answer: /"accepted":true,"deliveryId":"gh-replayed-delivery"/,
    sync: true,
    metric: ['github', 'accepted'],
  },
  {
    title: 'gitea: signature in uppercase hex',
    request: (p) => gitea(p, (b) => hmac(b).toUpperCase()),
    status: 202,
    sync: true,
  },
  {
    title: 'gitea: signature with a sha256= prefix',
    request: (p) => gitea(p, (b) => `sha256=${hmac(b)}`),
    status: 202,
    sync: true,
  },
  {
    title: 'gitlab: the right token',
    request: (p) => gitlab(p, GITLAB_TOKEN, REPLAYED_GITLAB_ID),
    status: 202,
    sync: true,
    metric: ['gitlab', 'accepted'],
  },
  {
    title: 'generic: a signed push',
    request: (p) => generic(p, (b) => `sha256=${hmac(b)}`),
    status: 202,
    sync: true,
  },
  {
    title: "github: GitHub's form encoding (payload=<json>), signed",
    request: (p) => {
      const body = new URLSearchParams({ payload: pushBody(p) }).toString();
      return github(body, { type: 'application/x-www-form-urlencoded' });
    },
    status: 202,
    sync: true,
  },
  {
    title: 'github: no content type, signed JSON',
    request: (p) => github(Buffer.from(pushBody(p)), { type: null }),
    status: 202,
    sync: true,
  },
  {
    title: 'github: text/plain content type, signed JSON',
    request: (p) => github(pushBody(p), { type: 'text/plain' }),
    status: 202,
    sync: true,
  },
  // Replays: answered, nothing started.
  {
    title: 'github: a replayed delivery id',
    request: (p) => github(pushBody(p), { id: REPLAYED_GITHUB_ID }),
    status: 200,
    answer: /"duplicate":true/,
    sync: false,
    metric: ['github', 'duplicate'],
  },
  {
    title: 'github: a replayed delivery id with another (signed) body',
    request: (p) => github(pushBody(p, { forced: true }), { id: REPLAYED_GITHUB_ID }),
    status: 200,
    answer: /"duplicate":true/,
    sync: false,
  },
  {
    title: 'gitlab: a replayed event uuid',
    request: (p) => gitlab(p, GITLAB_TOKEN, REPLAYED_GITLAB_ID),
    status: 200,
    answer: /"duplicate":true/,
    sync: false,
  },
];

describe('malformed input against a real worker', { timeout: 200_000 }, () => {
  const redis = connectTestRedis();
  const prefix = uniquePrefix('malformed');
  let work: TestRepo;
  let remote: TestRepo;
  let worker: WorkerHandle;
  let otherImage = 1;
  let otherRevision = 1;
  /** Pods (name, node, revision) and hash of every case DaemonSet after the first rollout. */
  const initial = new Map<string, { hash: string; pods: string[] }>();

  const otherYaml = () =>
    daemonSetYaml({
      name: 'other',
      namespace: 'infra',
      image: `registry.example/other:${otherImage}`,
      maxUnavailable: OTHER_BUDGET,
    });
  const bystander = daemonSetYaml({ name: 'bystander', namespace: 'infra', image: 'registry.example/bystander:1.0' });
  const podKeys = async (ds: string) =>
    (await pods(worker.url, ds))
      .map((p) => `${p.node} ${p.name} ${p.revision} ${p.ready} ${p.deleting === true}`)
      .sort();
  const metrics = async () => (await fetch(`${worker.url}/metrics`)).text();
  const requestSync = async () => {
    const res = await fetch(`${worker.url}/api/v1/sync`, { method: 'POST' });
    assert.equal(res.status, 202);
  };

  before(async () => {
    work = makeRepo();
    remote = makeBareRemote();
    const files: Record<string, string> = {
      [`${ROOT}/other/other.yaml`]: otherYaml(),
      [`${ROOT}/bystander.yaml`]: bystander,
    };
    for (const id of CASE_IDS) files[caseFile(id)] = good(id);
    files[`${ROOT}/cases/j01.json`] = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'j01', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'j01' } },
        template: {
          metadata: { labels: { app: 'j01' } },
          spec: { containers: [{ name: 'j01', image: 'registry.example/agent:1.0' }] },
        },
      },
    });
    commitFiles(work, files, 'initial');
    push(work, remote);
    worker = await startTestWorker({
      repo: remote.dir,
      path: ROOT,
      dataDir: tempDir('dsctl-data'),
      prefix,
      fleet: `sim:${NODES}`,
      simStartDelay: '30ms',
      pollInterval: '1h',
      lockDuration: '3s',
      webhookSecret: SECRET,
      webhookRepo: 'acme/daemonsets',
    });
    const all = [...CASE_IDS, 'j01'];
    await waitFor(
      'every case DaemonSet rolled out',
      async () => {
        const list = (await (await fetch(`${worker.url}/api/v1/daemonsets`)).json()) as {
          metadata: { name: string };
          status: { numberAvailable: number; updateRevisionNumber?: number };
        }[];
        const done = list.filter((d) => d.status.numberAvailable === NODES && d.status.updateRevisionNumber === 1);
        return done.length === all.length + 2;
      },
      60_000,
      250,
    );
    for (const id of all) {
      const view = (await getDaemonSet(worker.url, 'default', id))!;
      initial.set(id, { hash: view.status.updateRevision, pods: await podKeys(`default/${id}`) });
    }
  });

  after(async () => {
    await worker?.close();
    await cleanupPrefix(redis, prefix);
    await redis.quit();
    removeTempDirs();
  });

  /** The broken DaemonSet kept its revision and its pods, and shows the error; returns the condition message. */
  async function assertHeld(id: string, sha: string, expected: { strings?: string[]; message?: RegExp }) {
    const shown = await waitFor(
      `ManifestInvalid on default/${id}`,
      async () => {
        const view = await getDaemonSet(worker.url, 'default', id);
        // Synced already (the other DaemonSet of the same commit rolled out): gone means deleted, not held.
        if (view === undefined) return 'gone' as const;
        const c = condition(view, 'ManifestInvalid');
        return c?.status === 'True' && c.message.startsWith(`commit ${sha.slice(0, 7)} `) && c;
      },
      10_000,
      25,
    ).catch(async (err: Error) => {
      const view = await getDaemonSet(worker.url, 'default', id);
      throw new Error(`${err.message}; DaemonSet ${view ? JSON.stringify(view.status.conditions) : 'gone'}`);
    });
    if (shown === 'gone') {
      await sleep(500);
      const left = (await pods(worker.url, `default/${id}`)).filter((p) => !p.deleting).length;
      assert.fail(`default/${id} was deleted (pruned), not held: ${NODES - left} of ${NODES} pods deleted`);
    }
    const view = (await getDaemonSet(worker.url, 'default', id))!;
    assert.equal(view.status.updateRevisionNumber, 1, 'the last good revision number changed');
    assert.equal(view.status.updateRevision, initial.get(id)!.hash, 'the last good revision changed');
    assert.equal(view.status.numberAvailable, NODES);
    assert.deepEqual(await podKeys(`default/${id}`), initial.get(id)!.pods, 'pods of the broken DaemonSet changed');
    assert.equal((await history(worker.url, 'default', id)).length, 1);
    assert.match(shown.message, /; keeping the last good revision$/);
    if (expected.strings) {
      assert.ok(
        expected.strings.some((s) => shown.message.includes(s)),
        `the condition shows none of the parser's errors:\n  shown: ${shown.message}\n  expected one of:\n    ${expected.strings.join('\n    ')}`,
      );
    }
    if (expected.message) assert.match(shown.message, expected.message);
    return shown.message;
  }

  /** Commits `files` plus a new image of the other DaemonSet, pushes, syncs, waits for the other's rollout. */
  async function commitAndRollOther(files: Record<string, string | null>, subject: string): Promise<string> {
    otherImage++;
    otherRevision++;
    const sha = commitFiles(work, { ...files, [`${ROOT}/other/other.yaml`]: otherYaml() }, subject);
    push(work, remote);
    await requestSync();
    await waitRolledOut(worker.url, 'infra', 'other', otherRevision, 20_000, 25);
    return sha;
  }

  /** Expected condition fragments: every parser error of `text` as `file:line:column: message`. */
  function parserErrors(text: string, file: string, expect?: Expectation): string[] {
    const errors = parseManifests(text, { file }).errors;
    assert.ok(errors.length > 0, 'the case content has no error at all');
    if (expect) {
      assert.ok(
        errors.some(
          (e) =>
            (expect.code === undefined || e.code === expect.code) &&
            (expect.line === undefined || e.line === expect.line) &&
            (expect.field === undefined || e.field === expect.field),
        ),
        `the parser no longer reports ${JSON.stringify(expect)}`,
      );
    }
    return errors.map((e) => `${file}:${e.line}:${e.column}: ${e.message}`);
  }

  describe(`manifest commits (${MANIFEST_CASES.length} cases)`, () => {
    for (const c of MANIFEST_CASES) {
      test(`${c.id}: ${c.title}`, { ...(c.todo ? { todo: c.todo } : {}), timeout: 40_000 }, async () => {
        if (c.special === 'delete-path') return deletePathCase();
        if (c.special === 'force-push') return forcePushCase(c.id);
        if (c.special === 'symlink') return symlinkCase(c.id, c.message!);
        if (c.id === 'j01') {
          const file = `${ROOT}/cases/j01.json`;
          const sha = await commitAndRollOther(c.extra!, `case ${c.id}: ${c.title}`);
          await assertHeld('j01', sha, { strings: parserErrors(c.extra![file]!, file) });
          return;
        }
        const files: Record<string, string | null> = { ...c.extra };
        if (c.broken !== undefined) files[caseFile(c.id)] = c.broken;
        const sha = await commitAndRollOther(files, `case ${c.id}: ${c.title}`);
        await assertHeld(c.id, sha, {
          ...(c.broken !== undefined && !c.message
            ? { strings: parserErrors(c.broken, caseFile(c.id), c.expect) }
            : {}),
          ...(c.message ? { message: c.message } : {}),
        });
      });
    }
  });

  async function symlinkCase(id: string, expected: RegExp) {
    const path = join(work.dir, caseFile(id));
    rmSync(path);
    symlinkSync('/etc/passwd', path);
    const sha = await commitAndRollOther({}, `case ${id}: symlink`);
    const message = await assertHeld(id, sha, { message: expected });
    assert.doesNotMatch(message, /root:/, 'the host file was read');
  }

  async function deletePathCase() {
    const before = await timeline(worker.url);
    const keep = (await history(worker.url, 'infra', 'other')).length;
    const sha = commitFiles(work, { [ROOT]: null }, 'case p01: delete the whole path');
    push(work, remote);
    await requestSync();
    const shown = await waitFor(
      'SourcePathEmpty on the other DaemonSet',
      async () => {
        const c = condition(await getDaemonSet(worker.url, 'infra', 'other'), 'ManifestInvalid');
        return c?.message.startsWith(`commit ${sha.slice(0, 7)}`) && c;
      },
      10_000,
      25,
    );
    assert.match(shown.message, /leaves path "manifests" without any DaemonSet manifest; nothing was deleted/);
    await sleep(500); // room for a wrong deletion
    for (const ds of ['infra/other', 'infra/bystander', 'default/f01', 'default/d01']) {
      const [ns, name] = ds.split('/') as [string, string];
      const view = await getDaemonSet(worker.url, ns, name);
      assert.ok(view, `${ds} vanished from the API`);
      assert.equal(view.status.numberAvailable, NODES, `${ds} lost pods`);
    }
    assert.equal((await history(worker.url, 'infra', 'other')).length, keep);
    const after = (await timeline(worker.url)).slice(before.length);
    assert.deepEqual(
      after.filter((e) => e.event === 'deleted'),
      [],
      'pods deleted after a commit emptying the path',
    );
    // Restoring the path (the files as they were) changes nothing in the fleet and clears the error.
    work.git(['checkout', 'HEAD~1', '--', ROOT]);
    commitFiles(work, {}, 'case p01: restore the path');
    push(work, remote);
    await requestSync();
    await waitFor(
      'SourcePathEmpty cleared',
      async () => {
        const v = await getDaemonSet(worker.url, 'infra', 'other');
        return v !== undefined && condition(v, 'ManifestInvalid') === undefined;
      },
      10_000,
      25,
    );
    const view = (await getDaemonSet(worker.url, 'infra', 'other'))!;
    assert.equal(view.status.updateRevisionNumber, otherRevision, 'restoring the path made a new revision');
    assert.equal((await history(worker.url, 'infra', 'other')).length, keep);
    const all = (await timeline(worker.url)).slice(before.length);
    assert.deepEqual(
      all.filter((e) => e.event === 'deleted' || e.event === 'created'),
      [],
      'pods changed by emptying and restoring the path',
    );
  }

  async function forcePushCase(id: string) {
    // A commit that will be dropped: another image of the other DaemonSet.
    const dropped = await commitAndRollOther({}, 'to be dropped');
    const droppedHash = (await getDaemonSet(worker.url, 'infra', 'other'))!.status.updateRevision;
    resetHard(work, 'HEAD~1');
    otherRevision--; // the dropped revision disappears from the rebuilt history
    otherImage++;
    otherRevision++;
    const sha = commitFiles(
      work,
      {
        [caseFile(id)]: good(id).replace('kind: DaemonSet', 'kind: DaemonSet\nkind: DaemonSet'),
        [`${ROOT}/other/other.yaml`]: otherYaml(),
      },
      `case ${id}: force-pushed head`,
    );
    push(work, remote, { force: true });
    await requestSync();
    await waitFor(
      'the force-pushed head in the history',
      async () => (await history(worker.url, 'infra', 'other')).some((h) => h.commit === sha),
      20_000,
      25,
    );
    await waitRolledOut(worker.url, 'infra', 'other', otherRevision, 20_000, 25);
    const otherHistory = await history(worker.url, 'infra', 'other');
    assert.ok(!otherHistory.some((h) => h.commit === dropped), 'the dropped commit is still in the history');
    assert.ok(!otherHistory.some((h) => h.hash === droppedHash), 'the dropped revision is still in the history');
    const broken = good(id).replace('kind: DaemonSet', 'kind: DaemonSet\nkind: DaemonSet');
    await assertHeld(id, sha, { strings: parserErrors(broken, caseFile(id)) });
    const events = (await (await fetch(`${worker.url}/api/v1/namespaces/infra/daemonsets/other/events`)).json()) as {
      reason: string;
      message: string;
    }[];
    assert.ok(
      events.some((e) => e.reason === 'ForcePushed'),
      `no ForcePushed event: ${JSON.stringify(events.map((e) => e.reason))}`,
    );
  }

  test('after every manifest case: no pod of a broken DaemonSet was deleted, the others rolled within budget', async () => {
    await assertServing(worker.url);
    const entries = await timeline(worker.url);
    for (const id of [...CASE_IDS, 'j01']) {
      const c = MANIFEST_CASES.find((m) => m.id === id);
      if (c?.todo) continue;
      assert.deepEqual(deletedPods(entries, `default/${id}`), [], `pods of default/${id} deleted`);
    }
    assert.deepEqual(deletedPods(entries, 'infra/bystander'), [], 'pods of the bystander deleted');
    await assertDrillOutcome(worker.url, 'infra/other', { maxUnavailable: OTHER_BUDGET });
    await assertDrillOutcome(worker.url, 'infra/bystander', { maxUnavailable: 1 });
  });

  describe(`webhook deliveries (${HOOK_CASES.length} cases)`, () => {
    let pending = '';
    let historyBefore = 0;

    before(async () => {
      // A commit on the branch that only an accepted delivery may bring in (polling is off: 1 h).
      otherImage++;
      pending = commitFiles(work, { [`${ROOT}/other/other.yaml`]: otherYaml() }, 'pending: only a webhook syncs this');
      push(work, remote);
      historyBefore = (await history(worker.url, 'infra', 'other')).length;
    });

    for (const c of HOOK_CASES) {
      test(`${c.title} → ${c.status}${c.sync ? ' and a sync' : ', no sync'}`, { timeout: 20_000 }, async () => {
        const req = c.request(pending);
        const before = await metrics();
        const polls = counter(before, 'dsctl_git_polls_total');
        const res = await fetch(`${worker.url}${req.path}`, {
          method: req.method ?? 'POST',
          headers: req.headers,
          ...(req.method === 'GET' ? {} : { body: req.body }),
        });
        const text = await res.text();
        assert.equal(res.status, c.status, `answer: ${text.slice(0, 300)}`);
        if (c.answer) assert.match(text, c.answer);
        assert.ok(!text.includes(SECRET), 'the secret is echoed');
        if (c.sync) {
          await waitFor('a sync', async () => counter(await metrics(), 'dsctl_git_polls_total') > polls, 10_000, 25);
        } else {
          await sleep(300); // a sync job would have run by now
          assert.equal(counter(await metrics(), 'dsctl_git_polls_total'), polls, 'a refused delivery started a sync');
        }
        if (c.metric) {
          const [provider, result] = c.metric;
          const label = `provider="${provider}",result="${result}"`;
          assert.equal(
            counter(await metrics(), 'dsctl_webhooks_total', label) - counter(before, 'dsctl_webhooks_total', label),
            1,
            `dsctl_webhooks_total{${label}} did not count it`,
          );
        }
        const inHistory = (await history(worker.url, 'infra', 'other')).some((h) => h.commit === pending);
        if (!c.sync && !accepted) assert.equal(inHistory, false, 'the pending commit was synced');
        if (c.sync) {
          accepted = true;
          await waitFor(
            'the pending commit in the history',
            async () => (await history(worker.url, 'infra', 'other')).some((h) => h.commit === pending),
            10_000,
            25,
          );
        }
        await assertServing(worker.url);
      });
    }

    test('after every delivery: the history grew by the pushed commit only, the worker serves', async () => {
      const h = await history(worker.url, 'infra', 'other');
      assert.ok(h.some((e) => e.commit === pending));
      assert.ok(h.length <= historyBefore + 1, `the history grew by ${h.length - historyBefore}`);
      await waitRolledOut(worker.url, 'infra', 'other', otherRevision + 1, 20_000);
      await assertDrillOutcome(worker.url, 'infra/other', { maxUnavailable: OTHER_BUDGET });
      assert.equal((await fetch(`${worker.url}/readyz`)).status, 200);
    });
  });
});
