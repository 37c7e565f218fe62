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

export function parseYaml(file: string, text: string): { source: YamlSource; diagnostics: Diagnostic[] } {
  const { LineCounter, parseDocument } = yamlLib();
  const lines = new LineCounter();
  // Duplicate keys are found below, in linear time (the library's own check is quadratic).
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, strict: true });
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic["severity"], offset: number, message: string, hint?: string) => {
    const at = lines.linePos(offset);
    diagnostics.push({ severity, file, line: at.line, column: at.col, path: "", message, ...(hint ? { hint } : {}) });
  };
  for (const offset of duplicateKeys(doc))
    report("error", offset, `duplicate key ${quoteKeyAt(text, offset)}`, "each key may appear once in a mapping");
  for (const e of doc.errors) report("error", e.pos[0], firstLine(e.message));
  for (const w of doc.warnings) report("warning", w.pos[0], firstLine(w.message));
  let data: unknown;
  if (!doc.errors.length) {
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

/** Where a key repeats in its mapping: a duplicate is an error, never a silent "last one wins". */
function duplicateKeys(doc: Document.Parsed): number[] {
  const { isMap, isPair, isScalar, visit } = yamlLib();
  const out: number[] = [];
  visit(doc, {
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const p of map.items) {
        if (!isPair(p) || !isScalar(p.key)) continue;
        const k = String(p.key.value);
        if (seen.has(k) && p.key.range) out.push(p.key.range[0]);
        seen.add(k);
      }
    },
  });
  return out.sort((a, b) => a - b);
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
