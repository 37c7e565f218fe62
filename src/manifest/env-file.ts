// services[].env_file: variables for a service from a file next to the manifest, as Compose's
// env files have them: NAME=value lines, '#' comments and blank lines skipped, an optional
// `export `, a value in matching single or double quotes taken literally without them. Values
// are never expanded. Bounded: the file is at most 1 MiB, 1000 variables.
import { insideFileSource } from "../io/inside-file.js";
import { MkError } from "../errors.js";

const MAX_BYTES = 1024 * 1024;
const MAX_VARS = 1000;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type EnvFile = { values: Record<string, string> } | { problem: string };

/** The file's variables, or its first problem as "FILE:LINE: why". */
export function parseEnvFile(text: string, file: string): EnvFile {
  if (text.includes("\0")) return { problem: `${file}: it holds a NUL byte (not a text file)` };
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const at = `${file}:${i + 1}`;
    const body = line.replace(/^export\s+/, "");
    const eq = body.indexOf("=");
    const name = eq > 0 ? body.slice(0, eq).trim() : "";
    if (!NAME.test(name)) return { problem: `${at}: not NAME=value (a name is letters, digits and _)` };
    let value = body.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) value = value.slice(1, -1);
    else if (q === '"' || q === "'") return { problem: `${at}: the value's ${q} is not closed on its line` };
    values[name] = value;
    if (Object.keys(values).length > MAX_VARS) return { problem: `${at}: more than ${MAX_VARS} variables` };
  }
  return { values };
}

/** An env_file next to the manifest (inside its directory), read and parsed. */
export function readEnvFile(manifestDir: string, rel: string): EnvFile {
  let bytes: Buffer;
  try {
    const source = insideFileSource(manifestDir, rel);
    if (source.size > MAX_BYTES) return { problem: `${rel} is larger than 1 MiB` };
    bytes = source.read(0, source.size);
    source.close();
  } catch (e) {
    if (e instanceof MkError) return { problem: e.diagnostics[0]?.message ?? e.message };
    throw e;
  }
  return parseEnvFile(bytes.toString("utf8"), rel);
}
