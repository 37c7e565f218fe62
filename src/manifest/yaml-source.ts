// YAML parsing that keeps source positions, so every problem can name FILE:LINE:COL.
import type { Document, LineCounter, Node, Pair, YAMLMap } from "yaml";
import { yamlLib } from "../io/lazy.js";
import type { Diagnostic } from "../errors.js";

export interface YamlSource {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  data: unknown;
}

export interface Position {
  line: number;
  column: number;
}

/** Far beyond any manifest or lock: a document past these is generated or hostile, and refused before it costs. */
const MAX_DEPTH = 64;
const MAX_KEYS = 10_000;
const MAX_VALUES = 100_000;

const TOO_DEEP = `nests deeper than ${MAX_DEPTH} levels`;
const DEEP_HINT = "a manifest is a few levels deep; this one is generated or damaged";

export function parseYaml(file: string, text: string): { source: YamlSource; diagnostics: Diagnostic[] } {
  const { LineCounter, parseDocument } = yamlLib();
  const lines = new LineCounter();
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic["severity"], offset: number, message: string, hint?: string) => {
    const at = lines.linePos(offset);
    diagnostics.push({ severity, file, line: at.line, column: at.col, path: "", message, ...(hint ? { hint } : {}) });
  };
  const early = prescan(text);
  if (early) {
    const before = text.slice(0, early.offset);
    const line = before.split("\n").length;
    const column = early.offset - before.lastIndexOf("\n");
    diagnostics.push({ severity: "error", file, line, column, path: "", message: early.message, hint: early.hint });
    return { source: { file, text, doc: parseDocument(""), lines, data: undefined }, diagnostics };
  }
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found below, in linear time (the library's own check is quadratic).
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, strict: true });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    report("error", 0, TOO_DEEP, DEEP_HINT); // the parser's own recursion ran out
    return { source: { file, text, doc: parseDocument(""), lines, data: undefined }, diagnostics };
  }
  for (const p of shapeProblems(doc, text)) report("error", p.offset, p.message, p.hint);
  for (const e of doc.errors)
    if (!/call stack/i.test(e.message)) report("error", e.pos[0], firstLine(e.message), PARSER_HINTS[e.code]);
    else if (!diagnostics.some((d) => d.message === TOO_DEEP)) report("error", e.pos[0], TOO_DEEP, DEEP_HINT);
  for (const w of doc.warnings) report("warning", w.pos[0], firstLine(w.message));
  let data: unknown;
  if (!diagnostics.some((d) => d.severity === "error")) {
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // The yaml library refuses alias bombs (aliases that would expand exponentially).
      diagnostics.push({
        severity: "error",
        file,
        line: 1,
        column: 1,
        path: "",
        message: `cannot be read: ${(e as Error).message}`,
        hint: "YAML aliases (*name) may be used a few times, not to multiply the document",
      });
    }
  }
  return { source: { file, text, doc, lines, data }, diagnostics };
}

/** What to do about the parser errors people meet every day. */
const PARSER_HINTS: Partial<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY:
    'a ": " inside a plain value starts a mapping: quote the whole value (run: \'echo "status: ok"\') or write it as a block (run: |)',
  MULTILINE_IMPLICIT_KEY: "a key must fit on one line: is a ':' missing on the line before, or a value not quoted?",
  TAB_AS_INDENT: "YAML indents with spaces, never tabs",
  BAD_INDENT: "items of one list or mapping start in the same column",
};

/**
 * Before the document is built (which costs hundreds of bytes a node): the tokens alone, for
 * a count of values and the depth of flow collections ([[[...]]]) no manifest comes near.
 */
function prescan(text: string): { offset: number; message: string; hint: string } | undefined {
  const { Lexer, CST } = yamlLib();
  let values = 0;
  let flow = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === "scalar" || type === "single-quoted-scalar" || type === "double-quoted-scalar") values++;
    else if (type === "flow-seq-start" || type === "flow-map-start") flow++;
    else if (type === "flow-seq-end" || type === "flow-map-end") flow--;
    if (values > MAX_VALUES)
      return {
        offset,
        message: `more than ${MAX_VALUES} values`,
        hint: "a manifest holds a few hundred; this one is generated or damaged",
      };
    if (flow > MAX_DEPTH) return { offset, message: TOO_DEEP, hint: DEEP_HINT };
    offset += token.length;
  }
  return undefined;
}

/**
 * Walks the document without recursion: keys repeated in a mapping (an error, never a silent
 * "last one wins"), mappings with more keys than any manifest has, nesting deeper than any
 * manifest needs. The first too-large mapping or too-deep node ends the walk.
 */
function shapeProblems(doc: Document.Parsed, text: string): { offset: number; message: string; hint?: string }[] {
  const { isMap, isPair, isScalar, isSeq } = yamlLib();
  const out: { offset: number; message: string; hint?: string }[] = [];
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (!node) continue;
    const at = (node as Node).range?.[0] ?? 0;
    if (depth > MAX_DEPTH) return [...out, { offset: at, message: TOO_DEEP, hint: DEEP_HINT }];
    if (isMap(node)) {
      if (node.items.length > MAX_KEYS)
        return [
          ...out,
          {
            offset: at,
            message: `a mapping of ${node.items.length} keys (at most ${MAX_KEYS})`,
            hint: "a manifest's mappings have a few keys; this one is generated or damaged",
          },
        ];
      const seen = new Set<string>();
      for (const p of node.items) {
        if (!isPair(p)) continue;
        if (isScalar(p.key)) {
          const k = String(p.key.value);
          if (seen.has(k) && p.key.range)
            out.push({
              offset: p.key.range[0],
              message: `duplicate key ${quoteKeyAt(text, p.key.range[0])}`,
              hint: "each key may appear once in a mapping",
            });
          seen.add(k);
        }
        stack.push({ node: p.key, depth: depth + 1 }, { node: p.value, depth: depth + 1 });
      }
    } else if (isSeq(node)) for (const item of node.items) stack.push({ node: item, depth: depth + 1 });
  }
  return out;
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function quoteKeyAt(text: string, offset: number): string {
  const m = /^[^\s:#]+/.exec(text.slice(offset));
  return m ? `'${m[0]}'` : "";
}

const keyIndexes = new WeakMap<object, Map<string, Pair>>();

/** A mapping's pairs by key (the first of each), built once per mapping: lookups stay linear overall. */
function keyIndex(map: YAMLMap): Map<string, Pair> {
  let index = keyIndexes.get(map);
  if (!index) {
    const { isPair, isScalar } = yamlLib();
    index = new Map();
    for (const p of map.items)
      if (isPair(p) && isScalar(p.key) && !index.has(String(p.key.value))) index.set(String(p.key.value), p);
    keyIndexes.set(map, index);
  }
  return index;
}

/**
 * Position of the node at `path` (of its key when `at` is "key"). Walks as deep as the
 * document goes, so a missing key is reported at its closest existing parent.
 */
export function positionOf(
  src: YamlSource,
  path: readonly (string | number)[],
  at: "key" | "value" = "value",
): Position {
  const { isMap, isSeq } = yamlLib();
  let node: unknown = src.doc.contents;
  let keyNode: unknown;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = keyIndex(node).get(String(seg));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number" && node.items[seg] !== undefined) {
      keyNode = undefined;
      node = node.items[seg];
    } else break;
  }
  const target = (at === "key" && keyNode) || node || keyNode;
  const range = (target as Node | undefined)?.range;
  if (!range) return { line: 1, column: 1 };
  const p = src.lines.linePos(range[0]);
  return { line: p.line, column: p.col };
}

/** The original source text of a scalar (e.g. `0755` rather than the number 755). */
export function sourceTextOf(src: YamlSource, path: readonly (string | number)[]): string | undefined {
  const node = src.doc.getIn(path, true);
  return yamlLib().isScalar(node) && node.range ? src.text.slice(node.range[0], node.range[1]) : undefined;
}
