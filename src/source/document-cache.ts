/**
 * Parses manifest files document by document with a cache keyed by each document's text, so a
 * commit that changes one DaemonSet in a file of fifty parses one document, not fifty, and an
 * unchanged document yields the very same objects (which lets the sync skip it cheaply).
 *
 * Splitting is safe because YAML forbids a `---` line at column 0 inside any content (it always
 * starts a document) and anchors do not cross documents. One difference from a whole-file parse:
 * a name repeated in two documents comes back twice instead of once plus an error; the sync
 * treats both the same way (the DaemonSet is held with a `DuplicateDaemonSet` problem). Files with directives (`%YAML`),
 * explicit document ends (`...`), above the size limit or at the document limit are parsed whole.
 */
import { DEFAULT_MAX_BYTES, MAX_DOCUMENTS } from '../manifest/index.js';
import type { ManifestParseResult, ParseManifests } from './manifest-file.js';

interface Chunk {
  readonly text: string;
  /** 1-based line of the chunk's first line in the file. */
  readonly startLine: number;
}

const MARKER = /^---(?=[ \t\r]|$)/gm;
const WHOLE_FILE_ONLY = /^(%|\.\.\.(?=[ \t\r]|$))/m;

export class DocumentParseCache {
  private readonly entries = new Map<string, ManifestParseResult>();
  /** Calls made to the underlying parse function. */
  calls = 0;

  constructor(
    private readonly parse: ParseManifests,
    private readonly maxEntries = 4096,
  ) {}

  /** The result `parse(text, { file, maxBytes })` would give, assembled from per-document parses. */
  parseFile(text: string, file: string, maxBytes?: number): ManifestParseResult {
    const limit = maxBytes ?? DEFAULT_MAX_BYTES;
    const tooBig = text.length * 3 > limit && Buffer.byteLength(text) > limit;
    const chunks = tooBig || WHOLE_FILE_ONLY.test(text) ? undefined : splitDocuments(text);
    // At the document limit the whole-file parse decides (it refuses more than MAX_DOCUMENTS as TOO_LARGE).
    if (chunks === undefined || chunks.length <= 1 || chunks.length >= MAX_DOCUMENTS) {
      return this.cached(text, file, maxBytes);
    }
    const daemonSets: ManifestParseResult['daemonSets'][number][] = [];
    const sources: ManifestParseResult['sources'][number][] = [];
    const errors: ManifestParseResult['errors'][number][] = [];
    const skipped: NonNullable<ManifestParseResult['skipped']>[number][] = [];
    // Each chunk is exactly one document (a content-less prelude is not a chunk).
    chunks.forEach((chunk, documentIndex) => {
      const r = this.cached(chunk.text, file, maxBytes);
      const shift = chunk.startLine - 1;
      daemonSets.push(...r.daemonSets);
      for (const s of r.sources) {
        sources.push({ ...s, line: s.line + shift, documentIndex: s.documentIndex + documentIndex });
      }
      for (const e of r.errors) {
        const local = (e as { documentIndex?: number }).documentIndex;
        errors.push({
          ...e,
          line: e.line + shift,
          ...(local !== undefined ? { documentIndex: local + documentIndex } : {}),
        });
      }
      for (const s of r.skipped ?? []) {
        skipped.push({
          ...s,
          line: s.line + shift,
          kindLine: s.kindLine + shift,
          documentIndex: s.documentIndex + documentIndex,
        });
      }
    });
    return { daemonSets, sources, errors, skipped };
  }

  private cached(text: string, file: string, maxBytes: number | undefined): ManifestParseResult {
    const key = `${file}\0${text}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    this.calls++;
    const result = this.parse(text, { file, ...(maxBytes !== undefined ? { maxBytes } : {}) });
    this.entries.set(key, result);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return result;
  }
}

/**
 * Splits YAML text before every `---` line. Text before the first marker is a chunk of its own
 * only when it has content (a comment-only prelude is not a document).
 */
export function splitDocuments(text: string): Chunk[] {
  const starts: number[] = [];
  MARKER.lastIndex = 0;
  for (let m = MARKER.exec(text); m !== null; m = MARKER.exec(text)) starts.push(m.index);
  const chunks: Chunk[] = [];
  const prelude = text.slice(0, starts[0] ?? text.length);
  if (/^[ \t]*[^#\s]/m.test(prelude)) chunks.push({ text: prelude, startLine: 1 });
  let line = 1;
  let counted = 0;
  starts.forEach((start, i) => {
    for (; counted < start; counted++) if (text.charCodeAt(counted) === 10) line++;
    chunks.push({ text: text.slice(start, starts[i + 1] ?? text.length), startLine: line });
  });
  return chunks;
}
