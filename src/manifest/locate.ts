/**
 * From a field path (`['spec', 'template', 'spec', 'containers', 0, 'image']`) to the YAML node
 * that holds it, so validation errors found on plain objects get a line and column.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair, type ParsedNode } from 'yaml';

/** The node an error points at, and its offset in the text. */
export interface Location {
  offset: number;
  /** The node itself when the whole path was found (to quote its source in messages). */
  node?: ParsedNode;
}

const MAX_MERGE_DEPTH = 8;

function rangeStart(node: unknown): number | undefined {
  const range = (node as Partial<ParsedNode> | null)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

function keyMatches(key: unknown, segment: string | number): boolean {
  if (!isScalar(key)) return false;
  const value = key.value;
  return typeof value !== 'symbol' && String(value) === String(segment);
}

function resolve(node: unknown, doc: Document.Parsed): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** The pair for `segment` in `map`, looking through `<<` merge keys as the YAML 1.1 schema does. */
function findPair(map: unknown, segment: string | number, doc: Document.Parsed, depth = 0): Pair | undefined {
  if (!isMap(map) || depth > MAX_MERGE_DEPTH) return undefined;
  let merged: Pair | undefined;
  for (const pair of map.items) {
    if (keyMatches(pair.key, segment)) return pair;
    if (merged === undefined && isScalar(pair.key) && typeof pair.key.value === 'symbol') {
      const source = resolve(pair.value, doc);
      const sources = isSeq(source) ? source.items.map((item) => resolve(item, doc)) : [source];
      for (const candidate of sources) {
        merged = findPair(candidate, segment, doc, depth + 1);
        if (merged !== undefined) break;
      }
    }
  }
  return merged;
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node as { source?: string }).source === '';
}

/**
 * Where to point for an error at `path`: the node itself when it exists (its key when `atKey`, or
 * when the value is empty as in `name:`), else the deepest mapping or list on the way, i.e. the
 * parent of a missing required field.
 */
export function locate(doc: Document.Parsed, path: readonly (string | number)[], atKey: boolean): Location {
  let node: unknown = doc.contents;
  let lastOffset = rangeStart(node) ?? doc.range[0];
  let keyNode: unknown;
  for (const segment of path) {
    node = resolve(node, doc);
    if (isMap(node)) {
      const pair = findPair(node, segment, doc);
      if (pair === undefined) return { offset: lastOffset };
      keyNode = pair.key;
      node = pair.value;
      if (node === null || node === undefined) {
        return { offset: rangeStart(keyNode) ?? lastOffset };
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined || item === null) return { offset: lastOffset };
      keyNode = undefined;
      node = isPair(item) ? item.value : item;
    } else {
      return { offset: lastOffset };
    }
    lastOffset = rangeStart(node) ?? lastOffset;
  }
  const key = keyNode as Node | undefined;
  if (key !== undefined && (atKey || isEmptyScalar(node))) {
    return { offset: rangeStart(key) ?? lastOffset, node: key as ParsedNode };
  }
  return { offset: rangeStart(node) ?? lastOffset, node: node as ParsedNode };
}
