// YAML parsing that keeps source positions, so every problem can name FILE:LINE:COL.
import type { Document, LineCounter, Node } from "yaml";
import { yamlLib } from "../util/lazy.js";
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
  // uniqueKeys: a duplicate key is an error, never a silent "last one wins".
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const at = lines.linePos(e.pos[0]);
    const duplicate = e.code === "DUPLICATE_KEY";
    diagnostics.push({
      severity: "error",
      file,
      line: at.line,
      column: at.col,
      path: "",
      message: duplicate ? `duplicate key ${quoteKeyAt(text, e.pos[0])}` : firstLine(e.message),
      ...(duplicate ? { hint: "each key may appear once in a mapping" } : {}),
    });
  }
  for (const w of doc.warnings) {
    const at = lines.linePos(w.pos[0]);
    diagnostics.push({
      severity: "warning",
      file,
      line: at.line,
      column: at.col,
      path: "",
      message: firstLine(w.message),
    });
  }
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

function firstLine(s: string): string {
  return s.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function quoteKeyAt(text: string, offset: number): string {
  const m = /^[^\s:#]+/.exec(text.slice(offset));
  return m ? `'${m[0]}'` : "";
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
  const { isMap, isPair, isScalar, isSeq } = yamlLib();
  let node: unknown = src.doc.contents;
  let keyNode: unknown;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
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
