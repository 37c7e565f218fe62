// dev's own lines never glue onto a console line the guest left open (a login prompt).
import { describe, expect, it } from "vitest";
import { lineAware } from "../../src/dev/session.js";
import type { Log } from "../../src/log.js";

describe("dev's lines on the terminal", () => {
  it("start on a line of their own after a console line without its newline", () => {
    const terminal: string[] = [];
    const say = (m: string) => void terminal.push(`${m}\n`);
    const log = { info: say, warn: say, error: say, verbose: () => {} } as unknown as Log;
    const t = lineAware(log, (text) => void terminal.push(text));
    t.console("Booting Core\n");
    t.log.info("dev: first line");
    t.console("box login: ");
    t.log.info("dev: overlay rebuilt");
    t.console("more\n");
    t.log.warn("dev: a warning");
    expect(terminal.join("")).toBe(
      "Booting Core\ndev: first line\nbox login: \ndev: overlay rebuilt\nmore\ndev: a warning\n",
    );
  });
});
