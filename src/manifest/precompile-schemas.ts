// Run by `npm run build`: each schema's validator as Ajv standalone code in dist/schemas/,
// headed by the digest of the schemas it came from (schema.ts uses it only if they match).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import { precompiledPath, schemaAjv, schemaId, schemasDigest } from "./schema.js";

const standaloneCode = (
  createRequire(import.meta.url)("ajv/dist/standalone/index.js") as {
    default: (ajv: unknown, validate: unknown) => string;
  }
).default;

const digest = schemasDigest();
for (const name of ["manifest", "lock", "bundle"]) {
  const ajv = schemaAjv({ source: true });
  const code = standaloneCode(ajv, ajv.getSchema(schemaId(name)));
  const path = precompiledPath(name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `// schemas ${digest}\n${code}`);
}
