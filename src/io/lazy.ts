// Heavy libraries, loaded on first use: a CLI run pays only for what it does
// (`mkbundle --help` or `rebuild-iso` need neither ajv, undici nor yaml).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const cache = new Map<string, unknown>();

function load<T>(id: string): T {
  if (!cache.has(id)) cache.set(id, require(id));
  return cache.get(id) as T;
}

export const yamlLib = (): typeof import("yaml") => load("yaml");
export const ajvLib = (): typeof import("ajv/dist/2020.js") => load("ajv/dist/2020.js");
export const ajvFormats = (): { default: (ajv: unknown) => void } => load("ajv-formats");
export const undiciLib = (): typeof import("undici") => load("undici");
