/**
 * Multi-document YAML reading with hard limits, for untrusted manifests from Git.
 *
 * The `yaml` library (2.9.1, measured on Node 20) is correct but not hardened against every hostile input:
 * - its composer recurses once per nesting level and overflows the stack near 900 levels of flow
 *   collections; a stack overflow while V8 compiles a regular expression is a fatal process abort
 *   (measured with 2,000 `[`), not a catchable error;
 * - its CST parser is iterative but keeps every open collection, so 1 MiB of `[` costs ~5 s and
 *   ~800 MB;
 * - duplicate-key detection is quadratic in the size of a mapping (20,000 keys: 4 s);
 * - alias resolution costs a walk of the document per alias (20,000 aliases: 6 s).
 *
 * So the text is lexed first with a cheap bound on nesting (stops before the parser builds a
 * deep tree), each document's CST is measured without recursion (depth and alias count) before
 * it is composed, and duplicate keys are found here in linear time instead of by the library.
 */
import {
  Composer,
  CST,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
  type Document,
  type ParsedNode,
  type Tags,
  type YAMLParseError,
} from 'yaml';

/** Deepest nesting of collections accepted in one document (real manifests stay below 20). */
export const MAX_NESTING_DEPTH = 200;
/** Aliases (`*name`) accepted in one document. */
export const MAX_ALIASES_PER_DOCUMENT = 100;
/**
 * The limit `Document.toJS` applies to alias expansion (the library's `maxAliasCount`): stops
 * billion-laughs documents that stay under {@link MAX_ALIASES_PER_DOCUMENT}.
 */
export const MAX_ALIAS_EXPANSION = 100;
/**
 * Nesting at which lexing stops for the whole text. Higher than {@link MAX_NESTING_DEPTH} so
 * that a merely too-deep document is reported on its own and the others still parse.
 */
const LEXER_NESTING_LIMIT = 1000;
/** Documents read from one text; real manifest files hold a handful. */
export const MAX_DOCUMENTS = 10_000;
/** Duplicate keys reported per document. */
const MAX_DUPLICATE_KEYS = 100;

/** One YAML document of the stream, composed or refused. */
export interface StreamDocument {
  /** 0-based position in the stream, counting empty documents. */
  index: number;
  /** Offset of the document's first token. */
  offset: number;
  /** The composed document, or `null` when it was refused before composing (see `refusal`). */
  doc: Document.Parsed | null;
  refusal?: { code: 'NESTING_TOO_DEEP' | 'ALIAS_LIMIT'; offset: number; message: string };
  /** Duplicate keys found by {@link findDuplicateKeys}: offset of the repeated key and its text. */
  duplicateKeys: { offset: number; key: string }[];
}

/** What {@link readYamlStream} returns. */
export interface YamlStream {
  lineCounter: LineCounter;
  documents: StreamDocument[];
  /** Errors outside any document (stray `...`, garbage before the first document). */
  streamErrors: YAMLParseError[];
  /** Set when reading stopped early; no document is returned then. */
  aborted?: { code: 'NESTING_TOO_DEEP' | 'TOO_LARGE'; offset: number; message: string };
}

/**
 * go-yaml (used by kubectl and the API server) reads YAML 1.1 booleans and octals but keeps
 * timestamps and sexagesimal numbers (`12:30`) as strings when decoding into JSON, so those tags
 * of the library's YAML 1.1 schema are left out.
 */
function kubernetesYaml11Tags(tags: Tags): Tags {
  return tags.filter((tag) => {
    if (typeof tag === 'string') return true;
    return tag.tag !== 'tag:yaml.org,2002:timestamp' && (tag as { format?: string }).format !== 'TIME';
  });
}

/** Options for the composer: YAML 1.1 as go-yaml reads it; duplicate keys are checked here, linearly. */
export const COMPOSE_OPTIONS = {
  version: '1.1',
  customTags: kubernetesYaml11Tags,
  uniqueKeys: false,
  prettyErrors: false,
  // The library would otherwise print warnings to stderr (process.emitWarning) from the pure core.
  logLevel: 'error',
} as const;

interface CstMeasure {
  depth: number;
  deepestOffset: number;
  /** Offsets of the aliases, in no particular order. */
  aliasOffsets: number[];
}

/** Nesting depth and alias count of one CST document, without recursion. */
function measureCst(root: CST.Token): CstMeasure {
  const result: CstMeasure = { depth: 0, deepestOffset: root.offset, aliasOffsets: [] };
  const stack: [CST.Token, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [token, depth] = stack.pop() as [CST.Token, number];
    if (token.type === 'alias') {
      result.aliasOffsets.push(token.offset);
      continue;
    }
    if (token.type === 'document') {
      if (token.value) stack.push([token.value, depth]);
      continue;
    }
    if (CST.isCollection(token)) {
      const level = depth + 1;
      if (level > result.depth) {
        result.depth = level;
        result.deepestOffset = token.offset;
      }
      if (level > MAX_NESTING_DEPTH) continue;
      for (const item of token.items) {
        if (item.key) stack.push([item.key, level]);
        if (item.value) stack.push([item.value, level]);
      }
    }
  }
  return result;
}

function tooManyDocuments(offset: number): { tokens: CST.Token[]; aborted: YamlStream['aborted'] } {
  return {
    tokens: [],
    aborted: {
      code: 'TOO_LARGE',
      offset,
      message: `more than ${MAX_DOCUMENTS} YAML documents in one text; it was not read`,
    },
  };
}

/** Lexes `text` and feeds the parser, stopping when nesting or the number of documents passes its limit. */
function parseCst(text: string, lineCounter: LineCounter): { tokens: CST.Token[]; aborted?: YamlStream['aborted'] } {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let flowLevel = 0;
  let lineIndicators = 0;
  let scalarNext = false;
  let documents = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (scalarNext) {
      scalarNext = false;
    } else {
      switch (lexeme) {
        case CST.SCALAR:
          scalarNext = true;
          break;
        case '[':
        case '{':
          flowLevel++;
          break;
        case ']':
        case '}':
          if (flowLevel > 0) flowLevel--;
          break;
        case CST.FLOW_END:
        case '---':
        case '...':
          flowLevel = 0;
          break;
        case '-':
        case '?':
          // Compact nesting (`- - - x`) adds a level per indicator on one line.
          if (flowLevel === 0) lineIndicators++;
          break;
        case '\n':
        case '\r\n':
          lineIndicators = 0;
          break;
      }
      if (flowLevel + lineIndicators > LEXER_NESTING_LIMIT) {
        return {
          tokens: [],
          aborted: {
            code: 'NESTING_TOO_DEEP',
            offset: parser.offset,
            message: `YAML nesting deeper than ${LEXER_NESTING_LIMIT} levels; the text was not parsed`,
          },
        };
      }
    }
    for (const token of parser.next(lexeme)) {
      if (token.type === 'document' && ++documents > MAX_DOCUMENTS) return tooManyDocuments(token.offset);
      tokens.push(token);
    }
  }
  for (const token of parser.end()) {
    if (token.type === 'document' && ++documents > MAX_DOCUMENTS) return tooManyDocuments(token.offset);
    tokens.push(token);
  }
  return { tokens };
}

/**
 * Reads every document of `text`. Never throws for syntax problems (they are in each document's
 * `errors`), but callers should still guard against exceptions from the library.
 */
export function readYamlStream(text: string): YamlStream {
  // The library builds an Error (with a stack trace) for every problem it finds, and garbage input
  // has hundreds of thousands; without traces that costs half as much. Restored before returning.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readYamlStreamUnbounded(text);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function readYamlStreamUnbounded(text: string): YamlStream {
  const lineCounter = new LineCounter();
  const { tokens, aborted } = parseCst(text, lineCounter);
  if (aborted) return { lineCounter, documents: [], streamErrors: [], aborted };

  const composer = new Composer(COMPOSE_OPTIONS);
  const documents: StreamDocument[] = [];
  const pending: StreamDocument[] = [];
  const take = (doc: Document.Parsed): void => {
    const entry = pending.shift();
    if (entry) {
      entry.doc = doc;
      entry.duplicateKeys = findDuplicateKeys(doc);
    }
  };
  let index = 0;
  for (const token of tokens) {
    if (token.type === 'document') {
      const entry: StreamDocument = { index: index++, offset: token.offset, doc: null, duplicateKeys: [] };
      documents.push(entry);
      const measure = measureCst(token);
      if (measure.depth > MAX_NESTING_DEPTH) {
        entry.refusal = {
          code: 'NESTING_TOO_DEEP',
          offset: measure.deepestOffset,
          message: `YAML nesting deeper than ${MAX_NESTING_DEPTH} levels; the document was not read`,
        };
        continue;
      }
      if (measure.aliasOffsets.length > MAX_ALIASES_PER_DOCUMENT) {
        // Point at the first alias over the limit in reading order.
        const offsets = measure.aliasOffsets.sort((a, b) => a - b);
        entry.refusal = {
          code: 'ALIAS_LIMIT',
          offset: offsets[MAX_ALIASES_PER_DOCUMENT] ?? token.offset,
          message: `more than ${MAX_ALIASES_PER_DOCUMENT} YAML aliases (*name) in one document; the document was not read`,
        };
        continue;
      }
      pending.push(entry);
    }
    for (const doc of composer.next(token)) take(doc);
  }
  for (const doc of composer.end()) take(doc);
  return { lineCounter, documents, streamErrors: composer.streamInfo().errors };
}

function keyText(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (typeof value === 'symbol') return undefined; // merge key `<<`, which may repeat
  return String(value);
}

/**
 * Repeated keys in any mapping of `doc`, found in linear time (the library's own check is
 * quadratic). go-yaml and the API server's strict decoding refuse them too.
 */
export function findDuplicateKeys(doc: Document.Parsed): { offset: number; key: string }[] {
  const found: { offset: number; key: string }[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const text = keyText(pair.key);
        if (text !== undefined) {
          if (seen.has(text)) {
            found.push({ offset: (pair.key as ParsedNode).range[0], key: text });
            if (found.length >= MAX_DUPLICATE_KEYS) return found.sort((a, b) => a.offset - b.offset);
          }
          seen.add(text);
        }
        stack.push(pair.value);
        if (!isScalar(pair.key)) stack.push(pair.key);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    } else if (isPair(node)) {
      // `[a: b]`: a single-pair mapping inside a flow sequence.
      stack.push(node.key, node.value);
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}
