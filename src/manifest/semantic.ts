// Checks a schema cannot express: duplicates, paths that escape, secrets, flavour rules.
import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, posix, relative, resolve } from "node:path";
import { keyPath, type Diagnostic, type Severity } from "../errors.js";
import { MAX_ID as MAX_OWNER_ID, printable } from "../tree/entry.js";
import { GLOB_HINT, globProblem } from "../tree/prune.js";
import { diagnosticAt, type Locator } from "./schema.js";
import { sizeInBytes } from "./size.js";
import { extensionName } from "./types.js";
import { readEnvFile } from "./env-file.js";

export interface SemanticContext {
  locate: Locator;
  /** Directory that `source:` and `password.file` are relative to. */
  baseDir: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Runs on data that may have failed the schema: every access is guarded. */
export function semanticChecks(data: unknown, ctx: SemanticContext): Diagnostic[] {
  if (!isObj(data)) return [];
  const out: Diagnostic[] = [];
  const report = (
    severity: Severity,
    path: (string | number)[],
    message: string,
    hint?: string,
    at: "key" | "value" = "value",
  ) => void out.push(diagnosticAt(ctx.locate, severity, path, message, hint, at));
  /** "line 3" for the same file, "other.lst:3" across files. */
  const where = (path: (string | number)[], from: (string | number)[]) => {
    const p = ctx.locate(path);
    if (p.line === 0) return keyPath(path);
    return p.file === ctx.locate(from).file ? `line ${p.line}` : `${p.file}:${p.line}`;
  };

  // Extensions: a name twice in one list is a mistake; in both lists, a probable one.
  const ext = isObj(data["extensions"]) ? data["extensions"] : {};
  const firstSeen = new Map<string, (string | number)[]>();
  for (const role of ["builtin", "mirror"] as const) {
    const seenHere = new Map<string, (string | number)[]>();
    list(ext[role]).forEach((raw, i) => {
      if (typeof raw !== "string") return;
      const name = extensionName(raw);
      const path = ["extensions", role, i];
      const dup = seenHere.get(name);
      if (dup) report("error", path, `extension '${name}' is listed twice`, `first listed at ${where(dup, path)}`);
      else {
        const other = firstSeen.get(name);
        if (other)
          report(
            "warning",
            path,
            `extension '${name}' is also listed in ${keyPath(other.slice(0, 2))}`,
            "it will be both baked in and mirrored",
          );
        seenHere.set(name, path);
      }
    });
    for (const [n, p] of seenHere) if (!firstSeen.has(n)) firstSeen.set(n, p);
  }

  // Files: absolute, normalised, unique paths; sources inside the manifest's directory.
  checkFiles(list(data["files"]), ["files"]);
  // persist.seed: the same, each under a path the partition holds.
  const persist = isObj(data["persist"]) ? data["persist"] : {};
  const persisted = Array.isArray(persist["paths"]) ? persist["paths"] : ["home", "opt"];
  checkFiles(list(persist["seed"]), ["persist", "seed"], (p, at) => {
    const top = p.split("/")[1] ?? "";
    if (!persisted.includes(top) || p.split("/").length < 3)
      report(
        "error",
        at,
        `'${p}' is not under ${persisted.map((x) => `/${String(x)}`).join(" or ")}`,
        "the data partition holds only the paths persist.paths names",
      );
  });

  // kernel_modules: each place once, no '..'; sources next to the manifest.
  const modulePaths = new Map<string, number>();
  list(data["kernel_modules"]).forEach((k, i) => {
    if (!isObj(k)) return;
    const extract = isObj(k["extract"]) ? k["extract"] : {};
    const from =
      typeof k["source"] === "string" ? k["source"] : typeof k["url"] === "string" ? k["url"] : extract["path"];
    const path =
      typeof k["path"] === "string"
        ? k["path"]
        : typeof from === "string"
          ? `kernel/extra/${from.split("/").pop()}`
          : undefined;
    if (typeof k["path"] === "string" && k["path"].split("/").some((x) => x === ".." || x === "." || x === ""))
      report(
        "error",
        ["kernel_modules", i, "path"],
        `'${k["path"]}' is not a plain path under lib/modules/<release>/`,
        "like kernel/drivers/net/e1000.ko",
      );
    if (typeof extract["path"] === "string" && extract["path"].split("/").includes(".."))
      report("error", ["kernel_modules", i, "extract", "path"], `'${extract["path"]}' contains '..'`);
    if (path !== undefined) {
      const prev = modulePaths.get(path);
      if (prev !== undefined)
        report(
          "error",
          ["kernel_modules", i],
          `a second module at ${path}`,
          `the first is kernel_modules[${prev}], at ${where(["kernel_modules", prev], ["kernel_modules", i])}`,
        );
      else modulePaths.set(path, i);
    }
    if (typeof k["source"] === "string") checkSource(k["source"], ["kernel_modules", i, "source"]);
    if (typeof extract["file"] === "string") checkSource(extract["file"], ["kernel_modules", i, "extract", "file"]);
  });

  function checkFiles(
    items: unknown[],
    key: (string | number)[],
    more?: (path: string, at: (string | number)[]) => void,
  ) {
    const filePaths = new Map<string, number>();
    items.forEach((f, i) => {
      if (!isObj(f)) return;
      const p = f["path"];
      if (typeof p === "string") {
        // (a relative path is the schema's error)
        const at = [...key, i, "path"];
        const norm = posix.normalize(p);
        if (p.includes("\0")) report("error", at, `'${printable(p)}' contains a NUL byte`, "a path cannot hold one");
        else if (p.split("/").some((s) => s === ".." || s === "."))
          report("error", at, `'${p}' contains '.' or '..'`, "write the plain absolute path");
        else if (p.endsWith("/")) report("error", at, `'${p}' ends with '/'`, "name a file, not a directory");
        else if (norm !== p) report("error", at, `'${p}' is not a normal path`, `write ${norm}`);
        else if (p.startsWith("/")) more?.(p, at);
        const prev = filePaths.get(norm);
        if (prev !== undefined)
          report(
            "error",
            at,
            `'${p}' is already written by ${keyPath([...key, prev])}`,
            `first at ${where([...key, prev, "path"], at)}`,
          );
        else filePaths.set(norm, i);
      }
      const extract = f["extract"];
      const inside = isObj(extract) && typeof extract["path"] === "string" ? extract["path"] : undefined;
      if (inside !== undefined) {
        const at = [...key, i, "extract", "path"];
        if (inside.includes("\0")) report("error", at, `'${printable(inside)}' contains a NUL byte`);
        else if (inside.split("/").includes(".."))
          report("error", at, `'${inside}' contains '..'`, "a path inside the extension, like usr/local/bin/tool");
        else if (!inside.split("/").some((p) => p && p !== ".") || inside.endsWith("/"))
          report(
            "error",
            at,
            `'${inside}' does not name a file`,
            "a path inside the extension, like usr/local/bin/tool",
          );
      }
      const owner = typeof f["owner"] === "string" ? /^(\d+):(\d+)$/.exec(f["owner"]) : null;
      if (owner && (Number(owner[1]) > MAX_OWNER_ID || Number(owner[2]) > MAX_OWNER_ID))
        report(
          "error",
          [...key, i, "owner"],
          `'${owner[0]}': uid and gid must be at most ${MAX_OWNER_ID}`,
          "the largest id a tar header holds in its octal field (and so every output format)",
        );
      if (typeof f["source"] === "string") checkSource(f["source"], [...key, i, "source"]);
    });
  }

  function checkSource(source: string, path: (string | number)[]) {
    const abs = resolve(ctx.baseDir, source);
    const rel = relative(ctx.baseDir, abs);
    if (isAbsolute(source) || rel.startsWith("..")) {
      report(
        "error",
        path,
        `'${source}' is outside the manifest's directory`,
        "sources must live next to the manifest so a checkout builds the same image anywhere",
      );
      return;
    }
    if (!existsSync(abs)) {
      report("error", path, `source file '${source}' does not exist`, `looked for ${abs}`);
      return;
    }
    // A symlink inside the directory may still point outside it.
    const real = relative(realpathSync(ctx.baseDir), realpathSync(abs));
    if (real.startsWith("..") || isAbsolute(real))
      report("error", path, `'${source}' resolves outside the manifest's directory`, "through a symbolic link");
    else if (!statSync(abs).isFile()) report("error", path, `'${source}' is not a regular file`);
  }

  // Services: unique names.
  const services = new Map<string, number>();
  list(data["services"]).forEach((s, i) => {
    if (!isObj(s) || typeof s["name"] !== "string") return;
    const prev = services.get(s["name"]);
    if (prev !== undefined)
      report(
        "error",
        ["services", i, "name"],
        `service '${s["name"]}' is defined twice`,
        `first at ${where(["services", prev, "name"], ["services", i, "name"])}`,
      );
    else services.set(s["name"], i);
  });
  // env_file: next to the manifest, and NAME=value lines; reload_on: relative globs.
  list(data["services"]).forEach((s, i) => {
    if (!isObj(s)) return;
    if (typeof s["env_file"] === "string") {
      const before = out.length;
      checkSource(s["env_file"], ["services", i, "env_file"]);
      const read = out.length === before ? readEnvFile(ctx.baseDir, s["env_file"]) : undefined;
      if (read && "problem" in read) report("error", ["services", i, "env_file"], read.problem);
    }
    list(s["reload_on"]).forEach((g, j) => {
      const why =
        typeof g !== "string"
          ? undefined
          : g.startsWith("!")
            ? `'${g}': reload_on has no exceptions (a leading '!')`
            : globProblem(g);
      if (why) report("error", ["services", i, "reload_on", j], why, GLOB_HINT);
    });
  });
  // depends_on: services of this manifest, not itself, and no loop.
  const needs = new Map<string, string[]>();
  list(data["services"]).forEach((s, i) => {
    if (!isObj(s) || typeof s["name"] !== "string") return;
    const deps = list(s["depends_on"]).filter((d): d is string => typeof d === "string");
    needs.set(s["name"], deps);
    deps.forEach((d, j) => {
      if (!services.has(d))
        report(
          "error",
          ["services", i, "depends_on", j],
          `no service is named '${d}'`,
          "name one of this manifest's services",
        );
      else if (d === s["name"]) report("error", ["services", i, "depends_on", j], "a service cannot wait for itself");
    });
  });
  const loop = dependencyLoop(needs);
  if (loop) {
    const at = services.get(loop[0]!)!;
    report(
      "error",
      ["services", at, "depends_on"],
      `services wait for each other in a loop: ${loop.join(" -> ")}`,
      "none would start",
    );
  }

  // A base is an ISO or distribution files, never both.
  const base = isObj(data["base"]) ? data["base"] : {};
  if (base["kernel"] !== undefined)
    for (const key of ["iso", "url", "sha256"])
      if (base[key] !== undefined)
        report(
          "error",
          ["base", key],
          "cannot be used with base.kernel",
          "a base is either an ISO (iso, url, sha256) or distribution files (kernel, initrds, isolinux)",
          "key",
        );

  // Password: never clear text; ignored for prod (Razor's rule).
  const pw = data["password"];
  if (isObj(pw)) {
    if (data["flavour"] === "prod")
      report("warning", ["password"], "is ignored for flavour prod", "a prod image has no usable password", "key");
    if (typeof pw["file"] === "string" && !existsSync(resolve(ctx.baseDir, pw["file"]))) {
      report(
        "warning",
        ["password", "file"],
        `'${pw["file"]}' does not exist yet`,
        "the build reads it; keep it out of version control",
      );
    }
  }

  // prod exclusions should name something that is there.
  const builtin = new Set(
    list(ext["builtin"])
      .filter((x): x is string => typeof x === "string")
      .map(extensionName),
  );
  const flavours = isObj(data["flavours"]) && isObj(data["flavours"]["prod"]) ? data["flavours"]["prod"] : {};
  list(flavours["exclude"]).forEach((x, i) => {
    if (typeof x === "string" && !builtin.has(extensionName(x))) {
      report(
        "warning",
        ["flavours", "prod", "exclude", i],
        `'${x}' is not in extensions.builtin`,
        "nothing to exclude",
      );
    }
  });
  list(data["prune"]).forEach((g, i) => {
    const why = typeof g === "string" ? globProblem(g) : undefined;
    if (why) report("error", ["prune", i], why, GLOB_HINT);
  });
  // persist.size: what an ext2 data partition can be here (the schema checks the spelling).
  const bytes = sizeInBytes(persist["size"]);
  if (bytes !== undefined && (bytes < 1024 ** 2 || bytes > 64 * 1024 ** 3))
    report(
      "error",
      ["persist", "size"],
      `a data partition of ${String(persist["size"])} is not from 1MiB to 64GiB`,
      "like 64MiB",
    );
  return out;
}

/** A cycle among services' depends_on (as names, the first repeated at the end), or undefined. */
function dependencyLoop(needs: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "open") return [...path.slice(path.indexOf(n)), n];
    state.set(n, "open");
    path.push(n);
    for (const d of needs.get(n) ?? []) {
      if (d === n || !needs.has(d)) continue;
      const found = visit(d);
      if (found) return found;
    }
    path.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of needs.keys()) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}
