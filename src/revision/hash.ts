/**
 * Revision hash of a pod template, shaped like Kubernetes' `controller-revision-hash`
 * (daemonset-semantics.md §3.1): FNV-1a 32 over the canonical template, an optional
 * collision-count suffix, and the digit-to-letter encoding of `rand.SafeEncodeString`.
 */
import type { PodTemplateSpec } from '../domain/kubernetes.js';
import { canonicalJson } from './canonical.js';

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// k8s.io/apimachinery/pkg/util/rand: no vowels (no words) and no look-alike characters.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function fnv1a32(bytes: Uint8Array, seed = FNV_OFFSET_BASIS): number {
  let hash = seed;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/**
 * Hash of `.spec.template`. Stable across key order, YAML formatting and comments; changes with
 * any template field. `collisionCount` (when not `undefined`, so 0 differs from absent) is fed as
 * a little-endian uint32 plus four zero bytes, as Kubernetes does.
 */
export function templateHash(template: PodTemplateSpec | unknown, collisionCount?: number): string {
  let hash = fnv1a32(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const suffix = new Uint8Array(8);
    new DataView(suffix.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv1a32(suffix, hash);
  }
  return safeEncode(String(hash));
}
