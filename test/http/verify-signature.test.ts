import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  constantTimeEqual,
  hmacSha256Hex,
  verifyGenericSignature,
  verifyGiteaSignature,
  verifyGithubSignature,
  verifyGitlabToken,
  verifyWebhook,
} from '../../src/http/verify-signature.js';

// GitHub's documented vector ("Validating webhook deliveries").
const GH_SECRET = "It's a Secret to Everybody";
const GH_BODY = Buffer.from('Hello, World!');
const GH_HEX = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
// RFC 4231 test case 2.
const RFC_KEY = 'Jefe';
const RFC_DATA = Buffer.from('what do ya want for nothing?');
const RFC_HEX = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';

test('hmacSha256Hex matches the GitHub documentation and RFC 4231 vectors', () => {
  assert.equal(hmacSha256Hex(GH_SECRET, GH_BODY), GH_HEX);
  assert.equal(hmacSha256Hex(RFC_KEY, RFC_DATA), RFC_HEX);
});

const githubCases: { name: string; header: string | undefined; want: boolean }[] = [
  { name: 'correct signature', header: `sha256=${GH_HEX}`, want: true },
  { name: 'uppercase hex', header: `sha256=${GH_HEX.toUpperCase()}`, want: true },
  { name: 'surrounding whitespace', header: ` sha256=${GH_HEX} `, want: true },
  { name: 'missing header', header: undefined, want: false },
  { name: 'empty header', header: '', want: false },
  { name: 'prefix only', header: 'sha256=', want: false },
  { name: 'bare hex without the sha256= prefix', header: GH_HEX, want: false },
  { name: 'sha1= prefix', header: `sha1=${GH_HEX}`, want: false },
  { name: 'uppercase prefix', header: `SHA256=${GH_HEX}`, want: false },
  { name: 'one hex digit short', header: `sha256=${GH_HEX.slice(0, 63)}`, want: false },
  { name: 'one hex digit too many', header: `sha256=${GH_HEX}0`, want: false },
  { name: 'last digit changed', header: `sha256=${GH_HEX.slice(0, 63)}f`, want: false },
  { name: 'not hex', header: `sha256=${'z'.repeat(64)}`, want: false },
  { name: 'signature of another body', header: `sha256=${RFC_HEX}`, want: false },
];
for (const c of githubCases) {
  test(`GitHub X-Hub-Signature-256: ${c.name} → ${c.want}`, () => {
    assert.equal(verifyGithubSignature(GH_BODY, GH_SECRET, c.header), c.want);
    assert.equal(verifyGenericSignature(GH_BODY, GH_SECRET, c.header), c.want);
  });
}

test('a wrong secret or an empty secret never verifies', () => {
  assert.equal(verifyGithubSignature(GH_BODY, 'other secret', `sha256=${GH_HEX}`), false);
  assert.equal(verifyGithubSignature(GH_BODY, '', `sha256=${hmacSha256Hex('', GH_BODY)}`), false);
  assert.equal(verifyGitlabToken('', ''), false);
});

test('a modified body does not verify', () => {
  assert.equal(verifyGithubSignature(Buffer.from('Hello, World?'), GH_SECRET, `sha256=${GH_HEX}`), false);
});

test('Gitea X-Gitea-Signature is bare hex (any case); a sha256= prefix is tolerated', () => {
  assert.equal(verifyGiteaSignature(RFC_DATA, RFC_KEY, RFC_HEX), true);
  assert.equal(verifyGiteaSignature(RFC_DATA, RFC_KEY, RFC_HEX.toUpperCase()), true);
  assert.equal(verifyGiteaSignature(RFC_DATA, RFC_KEY, `sha256=${RFC_HEX}`), true);
  assert.equal(verifyGiteaSignature(RFC_DATA, RFC_KEY, `sha1=${RFC_HEX}`), false);
  assert.equal(verifyGiteaSignature(RFC_DATA, RFC_KEY, RFC_HEX.slice(2)), false);
  assert.equal(verifyGiteaSignature(RFC_DATA, RFC_KEY, ''), false);
  assert.equal(verifyGiteaSignature(RFC_DATA, RFC_KEY, undefined), false);
});

test('GitLab X-Gitlab-Token compares the token itself', () => {
  assert.equal(verifyGitlabToken('s3cret', 's3cret'), true);
  assert.equal(verifyGitlabToken('s3cret', 's3cret '), false);
  assert.equal(verifyGitlabToken('s3cret', 's3cre'), false);
  assert.equal(verifyGitlabToken('s3cret', 'S3CRET'), false);
  assert.equal(verifyGitlabToken('s3cret', ''), false);
  assert.equal(verifyGitlabToken('s3cret', undefined), false);
});

test('verifyWebhook picks the header of each provider', () => {
  const sig = hmacSha256Hex('k', GH_BODY);
  assert.equal(verifyWebhook('github', GH_BODY, 'k', { 'x-hub-signature-256': `sha256=${sig}` }), true);
  assert.equal(verifyWebhook('github', GH_BODY, 'k', { 'x-signature-256': `sha256=${sig}` }), false);
  assert.equal(verifyWebhook('generic', GH_BODY, 'k', { 'x-signature-256': `sha256=${sig}` }), true);
  assert.equal(verifyWebhook('gitea', GH_BODY, 'k', { 'x-gitea-signature': sig }), true);
  assert.equal(verifyWebhook('gitea', GH_BODY, 'k', { 'x-forgejo-signature': sig }), true);
  assert.equal(verifyWebhook('gitlab', GH_BODY, 'k', { 'x-gitlab-token': 'k' }), true);
  assert.equal(verifyWebhook('gitlab', GH_BODY, 'k', { 'x-hub-signature-256': `sha256=${sig}` }), false);
  assert.equal(verifyWebhook('github', GH_BODY, 'k', { 'x-hub-signature-256': [`sha256=${sig}`, 'x'] }), false);
});

test('constantTimeEqual handles different lengths without throwing', () => {
  assert.equal(constantTimeEqual('a', 'a'), true);
  assert.equal(constantTimeEqual('a', 'ab'), false);
  assert.equal(constantTimeEqual('', ''), true);
  assert.equal(constantTimeEqual(Buffer.from([1, 2]), Buffer.from([1, 2])), true);
});
