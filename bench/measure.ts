// Small helpers for benchmarks: medians of repeated runs, and a table with ratios.
import { execFileSync } from "node:child_process";

export async function median(reps: number, fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export const shell = (cmd: string, cwd?: string): void =>
  void execFileSync("sh", ["-c", cmd], { cwd, stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 << 30 });

const mbps = (bytes: number, ms: number): string => `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MB/s`;

export function printTable(
  title: string,
  rows: { name: string; ms: number; bytes: number; vs?: { name: string; ms: number } }[],
): void {
  console.log(`\n${title}`);
  for (const r of rows) {
    const ratio = r.vs ? `  ${(r.vs.ms / r.ms).toFixed(2)}x the speed of ${r.vs.name}` : "";
    console.log(
      `  ${r.name.padEnd(34)} ${r.ms.toFixed(0).padStart(7)} ms  ${mbps(r.bytes, r.ms).padStart(12)}${ratio}`,
    );
  }
}
