// JSON Schema validation with errors a reviewer can act on: position, key, value, expectation.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Ajv2020, ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { ajvFormats, ajvLib } from "../io/lazy.js";
import { packageRoot } from "../io/package-root.js";
import { keyPath, type Diagnostic, type Severity } from "../errors.js";
import { didYouMean } from "./did-you-mean.js";

/** Where a key path sits in the input (YAML file, list file, or nowhere). */
export type Locator = (
  path: readonly (string | number)[],
  at?: "key" | "value",
) => { file: string; line: number; column: number };

export interface SchemaContext {
  locate: Locator;
  /** Original text of a scalar, to show `0755` rather than 755. */
  sourceText?: (path: readonly (string | number)[]) => string | undefined;
}

const validators = new Map<string, ValidateFunction>();

export function schemaPath(name: string): string {
  return join(packageRoot(), "schemas", `${name}.schema.json`);
}

const schemaFiles = () =>
  readdirSync(join(packageRoot(), "schemas"))
    .filter((f) => f.endsWith(".schema.json"))
    .sort();

/** An Ajv holding every schema (bundle.json embeds a lock), with our options and keywords. */
export function schemaAjv(opts: { source?: boolean } = {}): Ajv2020 {
  const ajv: Ajv2020 = new (ajvLib().Ajv2020)({
    allErrors: true,
    verbose: true,
    strict: true,
    strictRequired: false,
    ...(opts.source ? { code: { source: true } } : {}),
  });
  (ajvFormats().default ?? (ajvFormats() as unknown as (a: unknown) => void))(ajv);
  // Annotation keyword: the plain-words expectation shown with pattern errors.
  ajv.addKeyword({ keyword: "errorHint", schemaType: "string" });
  for (const f of schemaFiles())
    ajv.addSchema(JSON.parse(readFileSync(join(packageRoot(), "schemas", f), "utf8")) as object);
  return ajv;
}

/** What a precompiled validator was made from: every schema's bytes and Ajv's version. */
export function schemasDigest(): string {
  const hash = createHash("sha256").update(ajvVersion());
  for (const f of schemaFiles()) hash.update(`${f}\0`).update(readFileSync(join(packageRoot(), "schemas", f)));
  return hash.digest("hex");
}

const ajvVersion = () =>
  (JSON.parse(readFileSync(createRequire(import.meta.url).resolve("ajv/package.json"), "utf8")) as { version: string })
    .version;

export const precompiledPath = (name: string): string => join(packageRoot(), "dist", "schemas", `${name}.validate.cjs`);

/**
 * The validator `npm run build` compiled (Ajv's standalone code: compiling at run time costs
 * about 0.3 s a run), if it was made from these very schemas; else compiled now.
 */
export function loadValidator(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    const pre = precompiledPath(name);
    const header = existsSync(pre) ? readFileSync(pre, "utf8").slice(0, 100) : "";
    v = header.startsWith(`// schemas ${schemasDigest()}\n`)
      ? (createRequire(import.meta.url)(pre) as ValidateFunction)
      : (schemaAjv().getSchema(schemaId(name)) as ValidateFunction);
    validators.set(name, v);
  }
  return v;
}

/** A schema's $id, by which Ajv knows it. */
export function schemaId(name: string): string {
  return (JSON.parse(readFileSync(schemaPath(name), "utf8")) as { $id: string }).$id;
}

export function validateAgainstSchema(name: string, data: unknown, ctx: SchemaContext): Diagnostic[] {
  const validate = loadValidator(name);
  if (validate(data)) return [];
  const errors = dropBranchNoise(validate.errors ?? []);
  return errors.flatMap((e) => toDiagnostic(e, data, ctx));
}

/**
 * A failed oneOf of `required` branches, or of shapes for one value, explains itself; its branch errors only add noise. An
 * if/then/else (a value of one of two shapes, picked by a key) is explained by the errors of
 * the branch it took: "must match then schema" says nothing more.
 */
function dropBranchNoise(errors: ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === "oneOf");
  // A scalar or a list of the wrong shape: its branches' errors (through $refs too) are all noise.
  const shapeOf = (o: ErrorObject) =>
    !("type" in (o.parentSchema ?? {})) && (!o.data || typeof o.data !== "object" || Array.isArray(o.data));
  return errors.filter(
    (e) =>
      e.keyword !== "if" &&
      !oneOfs.some(
        (o) =>
          o !== e &&
          e.instancePath === o.instancePath &&
          (e.schemaPath.startsWith(o.schemaPath + "/") || (shapeOf(o) && e.keyword !== "oneOf")),
      ),
  );
}

function segmentsOf(instancePath: string, data: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let cur: unknown = data;
  for (const raw of instancePath.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const key = Array.isArray(cur) ? Number(seg) : seg;
    out.push(key);
    cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return out;
}

const show = (v: unknown): string => (typeof v === "string" ? `'${v}'` : JSON.stringify(v));

function describeType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `the ${typeof v} ${show(v)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
};

/** A problem at a key path of the input, positioned by `locate`. */
export function diagnosticAt(
  locate: Locator,
  severity: Severity,
  path: readonly (string | number)[],
  message: string,
  hint?: string,
  where: "key" | "value" = "value",
): Diagnostic {
  const pos = locate(path, where);
  return {
    severity,
    file: pos.file,
    line: pos.line,
    column: pos.column,
    path: keyPath(path),
    message,
    ...(hint ? { hint } : {}),
  };
}

/** What YAML did to an unquoted scalar, and how to write what was meant. */
function unquotedHint(segs: readonly (string | number)[], text: string, value: number | boolean): string {
  if (segs[segs.length - 1] === "mode" && typeof value === "number")
    return `a mode is a quoted octal string like "0755"; YAML reads an unquoted ${text} as the number ${value}`;
  const read = typeof value === "number" ? `the number ${value}` : `the boolean ${value}`;
  const same = String(value) === text;
  return `YAML reads an unquoted ${text} as ${read}${same ? "" : `, not the text ${text}`}: quote it, "${text}"`;
}

function toDiagnostic(e: ErrorObject, data: unknown, ctx: SchemaContext): Diagnostic[] {
  const segs = segmentsOf(e.instancePath, data);
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const make = (path: (string | number)[], message: string, hint?: string, where: "key" | "value" = "value") =>
    diagnosticAt(ctx.locate, "error", path, message, hint, where);
  // A value under password: may be the password itself, pasted in by mistake: never repeat it.
  const secret = segs[0] === "password";
  const value: unknown = secret && typeof e.data !== "object" ? "<not shown: it may be a secret>" : e.data;
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((parent["properties"] as object | undefined) ?? {});
      const guess = didYouMean(key, known);
      const hint = guess ? `did you mean '${guess}'?` : `expected one of: ${known.join(", ")}`;
      return [make([...segs, key], `unknown key '${key}'`, hint, "key")];
    }
    case "required": {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      return [make(segs, `missing required key '${key}'`)];
    }
    case "type": {
      const expected = String((e.params as { type: string }).type);
      if (e.instancePath === "/password" && typeof value === "string") {
        return [
          make(
            segs,
            "clear-text password in the manifest",
            'use password: {env: VAR}, {file: PATH} or {hash: "$6$..."}; a manifest is reviewed and committed',
          ),
        ];
      }
      const text = ctx.sourceText?.(segs)?.trim();
      if (expected === "string" && (typeof value === "number" || typeof value === "boolean") && text)
        return [make(segs, `must be a string, not the ${typeof value} ${text}`, unquotedHint(segs, text, value))];
      return [make(segs, `must be ${TYPE_NAMES[expected] ?? expected}, not ${describeType(value)}`)];
    }
    case "enum": {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String);
      const guess = typeof value === "string" ? didYouMean(value, allowed) : undefined;
      return [
        make(
          segs,
          `${show(value)} is not allowed`,
          `expected one of: ${allowed.join(", ")}${guess ? `; did you mean '${guess}'?` : ""}`,
        ),
      ];
    }
    case "pattern": {
      const pattern = (e.params as { pattern: string }).pattern;
      if (!secret && typeof value === "string" && pattern.includes("[0-9a-f]") && /[A-F]/.test(value)) {
        const lower = value.toLowerCase();
        if (new RegExp(pattern).test(lower))
          return [make(segs, `'${value}' is upper-case hex`, `sha256 digests are written in lower case: "${lower}"`)];
      }
      const hint = typeof parent["errorHint"] === "string" ? parent["errorHint"] : `a string matching ${pattern}`;
      return [
        make(
          segs,
          secret ? "is not valid (the value is not shown: it may be a secret)" : `${show(value)} is not valid`,
          `expected ${hint}`,
        ),
      ];
    }
    case "oneOf": {
      // A value of one of several shapes (a size as text or bytes, a list or "auto"): its hint says which.
      const shapes = !("type" in parent);
      if (!shapes && (!value || typeof value !== "object")) return []; // the type error says it
      if (shapes && (!value || typeof value !== "object" || Array.isArray(value)))
        return [
          make(
            segs,
            `${secret ? "the value" : show(value)} is not valid`,
            typeof parent["errorHint"] === "string" ? `expected ${parent["errorHint"]}` : undefined,
          ),
        ];
      const branches = ((e.schema as { required?: string[] }[]) ?? []).flatMap((b) => b.required ?? []);
      const present = branches.filter((k) => value && typeof value === "object" && k in value);
      if (present.length === 0) return [make(segs, `needs one of: ${branches.join(", ")}`)];
      return [make(segs, `sets ${present.join(" and ")}`, `expected exactly one of: ${branches.join(", ")}`)];
    }
    default:
      return [
        make(
          segs,
          `${e.message ?? "is not valid"}${value !== undefined && typeof value !== "object" ? ` (got ${show(value)})` : ""}`,
        ),
      ];
  }
}
