// tc's password, from where the manifest says (password.env, password.file, password.hash),
// else Razor's MK_BUNDLE_TC_PASSWD: resolved once per run, held as a secret (never printed,
// never written anywhere but as a sha512-crypt hash in the image's /etc/shadow).
import { resolve } from "node:path";
import { readTextFile } from "../manifest/text-file.js";
import type { Manifest } from "../manifest/types.js";
import type { TcPassword } from "../overlay/password.js";
import type { Env } from "./environment.js";

export function resolveTcPassword(m: Pick<Manifest, "password">, manifestDir: string, env: Env): TcPassword {
  const razor = env["MK_BUNDLE_TC_PASSWD"];
  const fromRazorVariable = !!razor;
  const p = m.password;
  if (p && "hash" in p) return { secret: { hash: p.hash }, fromRazorVariable };
  if (p && "env" in p) {
    const v = env[p.env];
    return v
      ? { secret: { clear: v }, fromRazorVariable }
      : { problem: `password.env names ${p.env}, which is not set`, fromRazorVariable };
  }
  if (p && "file" in p) {
    const read = readTextFile(resolve(manifestDir, p.file), `password.file ${p.file}`, 4096);
    const v = read.text?.split(/\r?\n/)[0];
    if (read.problem) return { problem: read.problem.message, fromRazorVariable };
    return v
      ? { secret: { clear: v }, fromRazorVariable }
      : { problem: `password.file ${p.file} is empty`, fromRazorVariable };
  }
  return razor ? { secret: { clear: razor }, fromRazorVariable } : { fromRazorVariable };
}
