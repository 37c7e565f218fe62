// budget: the manifest's size limits, checked on the prepared image before any output is
// written: the ISO's size (known from its layout), the initrds compressed, and the RAM the
// kernel and the unpacked initrds take (as mkbundle size counts it). Over a limit, the error names the largest parts (and inside each initrd its
// largest directories and extensions) and, when an image of the same name is already in the
// output directory, what changed since it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { MkError } from "../errors.js";
import type { ReadLimits } from "../formats/limits.js";
import { gunzipSource } from "../formats/gzip/inflate.js";
import { archiveComponent, sizeOfImage, type SizeNode } from "../inspect/size.js";
import type { BudgetKey } from "../manifest/types.js";
import { isoFileName } from "../outdir/names.js";
import { humanBytes } from "../store/progress.js";
import { isoImageSize } from "./outputs/iso.js";
import type { PreparedRemaster } from "./prepare.js";

/** What budget: measures, in bytes, and its limits (iso only when an ISO is among the outputs). */
export type Measured = { [K in BudgetKey]?: { bytes: number; limit: number } };

const WHAT: Record<BudgetKey, string> = {
  iso: "the ISO",
  initrd: "the initrds (compressed)",
  ram: "the RAM the kernel and the unpacked initrds take",
};

const bytes = (n: number) =>
  `${n.toLocaleString("en-US")} byte${n === 1 ? "" : "s"}${n >= 1024 ? ` (${humanBytes(n)})` : ""}`;

/** Measures what the budget bounds; throws a budget error naming the largest parts when over. */
export async function checkBudget(
  p: PreparedRemaster,
  formats: readonly string[],
  limits: ReadLimits,
): Promise<Measured> {
  const budget = p.bundle.json.manifest.budget;
  if (!budget) return {};
  const measured: { [K in BudgetKey]?: number } = {};
  if (budget.iso !== undefined && formats.includes("iso")) measured.iso = await isoImageSize(p);
  if (budget.initrd !== undefined) measured.initrd = p.initrds.reduce((n, i) => n + i.size, 0);
  if (budget.ram !== undefined) {
    measured.ram = p.kernel.bytes.length; // as mkbundle size counts: the kernel, and the initrds unpacked
    for (const i of p.initrds) measured.ram += (await gunzipSource(i.source, { label: i.path, limits })).size;
  }
  const over = (Object.keys(measured) as BudgetKey[]).filter((k) => measured[k]! > budget[k]!);
  if (!over.length)
    return Object.fromEntries(
      (Object.keys(measured) as BudgetKey[]).map((k) => [k, { bytes: measured[k]!, limit: budget[k]! }]),
    );
  const lines = over.map(
    (k) =>
      `budget.${k}: ${WHAT[k]} ${k === "iso" ? "would be" : "would take"} ${bytes(measured[k]!)}, ${bytes(measured[k]! - budget[k]!)} over ${bytes(budget[k]!)}`,
  );
  lines.push(
    ...(await largestParts(p, limits)),
    ...(await sinceLast(p, measured, limits)),
    "to fit: prune: what the service does not need, drop extensions, or raise the budget; nothing was written",
  );
  throw new MkError("budget", lines);
}

/** The kernel and each initrd, largest first, with an initrd's largest directories and extensions. */
async function largestParts(p: PreparedRemaster, limits: ReadLimits): Promise<string[]> {
  const parts: { path: string; bytes: number; detail: string }[] = [
    { path: p.kernel.path, bytes: p.kernel.bytes.length, detail: "the kernel" },
  ];
  for (const i of p.initrds) {
    const found = await archiveComponent("initrd", i.path, i.source, limits, { top: 5, depth: 2, limits });
    const c = found?.component;
    const inside = [...(c?.tree?.children ?? []).flatMap(deepest), ...(found?.nested ?? [])]
      .filter((n) => !n.path.startsWith("("))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 5)
      .map((n) => `${n.path.replace(`${i.path} > `, "")} ${humanBytes(n.bytes)}`);
    parts.push({
      path: i.path,
      bytes: i.size,
      detail: `an initrd, ${c ? humanBytes(c.unpacked) : "?"} unpacked${inside.length ? `; largest in it: ${inside.join(", ")}` : ""}`,
    });
  }
  return parts
    .sort((a, b) => b.bytes - a.bytes)
    .map((x, i) => `${i ? "then" : "largest:"} /${x.path} ${humanBytes(x.bytes)}, ${x.detail}`);
}

/** A tree's nodes at its deepest shown level (a directory, not its parents that contain it). */
const deepest = (n: SizeNode): SizeNode[] => (n.children?.length ? n.children.flatMap(deepest) : [n]);

/** What changed since the ISO of the same name in the output directory, if there is one that reads. */
async function sinceLast(p: PreparedRemaster, measured: { iso?: number }, limits: ReadLimits): Promise<string[]> {
  const last = join(p.out, isoFileName(p.name, p.flavour, p.version));
  if (!existsSync(last)) return [];
  let report;
  try {
    report = await sizeOfImage(last, { limits, top: 1, depth: 1 });
  } catch (e) {
    if (e instanceof MkError) return [`(the image already at ${last} does not read: ${e.message.split("\n")[0]})`];
    throw e;
  }
  const was = new Map(report.components.map((c) => [c.path, c.bytes]));
  const now = new Map<string, number>([
    [p.kernel.path, p.kernel.bytes.length],
    ...p.initrds.map((i): [string, number] => [i.path, i.size]),
  ]);
  const delta = (a: number, b: number) => `${b >= a ? "+" : "-"}${humanBytes(Math.abs(b - a))}`;
  const lines = [...now].flatMap(([path, n]) => {
    const before = was.get(path);
    if (before === n) return [];
    return [
      `/${path} ${before === undefined ? "is new" : `${humanBytes(before)} -> ${humanBytes(n)} (${delta(before, n)})`}`,
    ];
  });
  const iso =
    measured.iso !== undefined
      ? `the ISO ${humanBytes(report.bytes)} -> ${humanBytes(measured.iso)} (${delta(report.bytes, measured.iso)}), `
      : "";
  return [`since ${last}: ${iso}${lines.length ? lines.join(", ") : "the kernel and initrds unchanged"}`];
}
