// Download progress, always on stderr: on a terminal, a redrawn line (files, bytes, rate,
// and the current file with its percentage when its size is pinned); otherwise a line per
// downloaded file (cached ones only with -v) and, while transfers run, a line every few
// seconds saying how far they got; nothing with --quiet.

export interface Progress {
  /** A transfer starts; `total` is its size when pinned. */
  begin(label: string, total?: number): void;
  bytes(n: number, label?: string): void;
  end(label: string, outcome: { size: number; cached: boolean; ms: number; from?: string }): void;
  finish(): void;
}

const silentProgress: Progress = { begin() {}, bytes() {}, end() {}, finish() {} };

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** How often a line is written without a terminal while transfers run. */
const QUIET_PERIOD_MS = 5000;

export function makeProgress(opts: {
  quiet?: boolean;
  verbose?: boolean;
  tty?: boolean;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  now?: () => number;
}): Progress {
  if (opts.quiet) return silentProgress;
  const out = opts.stream ?? process.stderr;
  const tty = opts.tty ?? out.isTTY === true;
  const now = opts.now ?? Date.now;
  const started = now();
  const active = new Map<string, { got: number; total?: number }>();
  let files = 0;
  let fetched = 0;
  let bytes = 0;
  let current = "";
  let lastDraw = 0;
  let lastLine = started;
  const share = (label: string) => {
    const a = active.get(label);
    if (!a) return label;
    return a.total
      ? `${label} ${humanBytes(a.got)} of ${humanBytes(a.total)} (${Math.floor((100 * a.got) / Math.max(1, a.total))}%)`
      : `${label} ${humanBytes(a.got)}`;
  };
  const draw = (force = false) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const rate = bytes / Math.max(0.001, (t - started) / 1000);
    out.write(`\r\x1b[K[${plural(files, "file")}] ${humanBytes(bytes)} at ${humanBytes(rate)}/s ${share(current)}`);
  };
  const periodic = () => {
    const t = now();
    if (t - lastLine < QUIET_PERIOD_MS || !active.size) return;
    lastLine = t;
    out.write(`downloading ${[...active.keys()].map(share).join(", ")} (${((t - started) / 1000).toFixed(0)} s)\n`);
  };
  return {
    begin(label, total) {
      current = label;
      active.set(label, total ? { got: 0, total } : { got: 0 });
      if (tty) draw();
    },
    bytes(n, label) {
      bytes += n;
      const a = label ? active.get(label) : undefined;
      if (a) a.got += n;
      if (label) current = label;
      if (tty) draw();
      else periodic();
    },
    end(label, o) {
      active.delete(label);
      files++;
      if (!o.cached) fetched++;
      if (tty) draw();
      else if (!o.cached || opts.verbose)
        out.write(
          `${o.cached ? "cached " : "fetched"} ${label}${o.from ? ` from ${o.from}` : ""} (${humanBytes(o.size)}${o.cached ? "" : `, ${(o.ms / 1000).toFixed(1)} s`})\n`,
        );
    },
    finish() {
      // A transfer that failed never ended: its share must not stay on the last line.
      active.clear();
      current = "";
      if (tty && files) {
        draw(true);
        out.write("\n");
      }
      if (files)
        out.write(
          `${plural(files, "file")}, ${fetched} downloaded (${humanBytes(bytes)}), ${files - fetched} from the cache\n`,
        );
    },
  };
}
