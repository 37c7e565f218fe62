// What a boot test leaves behind for CI: the console (always in --out on failure, or where
// --console-log says) and a JUnit report. Returns where the console was saved.
import { writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ensureDir } from "../io/ensure-dir.js";
import { stripAnsi } from "./ansi.js";
import type { BootTestResult } from "./boot-test.js";
import { junitXml } from "./junit.js";

function save(path: string, text: string): void {
  ensureDir(dirname(path));
  writeFileSync(path, text);
}

export async function saveTestReports(
  image: string,
  r: BootTestResult,
  o: { out: string; consoleLog?: string; junit?: string },
): Promise<string | undefined> {
  const consoleLog = o.consoleLog ?? (r.passed ? undefined : join(o.out, `${basename(image)}.console.log`));
  if (consoleLog) save(consoleLog, stripAnsi(r.console));
  if (o.junit) save(o.junit, junitXml(image, r));
  return consoleLog;
}
