// Download progress: a redrawn bar on a terminal (files, bytes, rate), one line per file
// otherwise, nothing with --quiet. Always on stderr.

export interface Progress {
  begin(label: string): void;
  bytes(n: number): void;
  end(label: string, outcome: { size: number; cached: boolean; ms: number }): void;
  finish(): void;
}

const silentProgress: Progress = { begin() {}, bytes() {}, end() {}, finish() {} };

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function makeProgress(opts: { quiet?: boolean; tty?: boolean; stream?: NodeJS.WriteStream }): Progress {
  if (opts.quiet) return silentProgress;
  const out = opts.stream ?? process.stderr;
  const tty = opts.tty ?? out.isTTY === true;
  const started = Date.now();
  let files = 0;
  let fetched = 0;
  let bytes = 0;
  let current = "";
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const rate = bytes / Math.max(0.001, (now - started) / 1000);
    out.write(`\r\x1b[K[${files} files] ${humanBytes(bytes)} ${humanBytes(rate)}/s ${current}`);
  };
  return {
    begin(label) {
      current = label;
      if (tty) draw();
    },
    bytes(n) {
      bytes += n;
      if (tty) draw();
    },
    end(label, o) {
      files++;
      if (!o.cached) fetched++;
      if (tty) draw();
      else
        out.write(
          `${o.cached ? "cached " : "fetched"} ${label} (${humanBytes(o.size)}${o.cached ? "" : `, ${(o.ms / 1000).toFixed(1)} s`})\n`,
        );
    },
    finish() {
      if (tty && files) {
        draw(true);
        out.write("\n");
      }
      if (files)
        out.write(`${files} files, ${fetched} downloaded (${humanBytes(bytes)}), ${files - fetched} from the cache\n`);
    },
  };
}
