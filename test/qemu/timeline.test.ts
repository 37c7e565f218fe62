// The timeline read from a console as it arrives, in pieces cut anywhere: the lines of a real
// x86_64 fixture boot (kernel at loglevel 6), colour codes and all; each milestone once, at
// the time its text first arrived; the checks merged in time order.
import { describe, expect, it } from "vitest";
import { arrivalClock, consoleTimeline, renderTimeline, timeline } from "../../src/qemu/timeline.js";
import { stripAnsi } from "../../src/qemu/ansi.js";

const CONSOLE = [
  "[    0.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP\r\n",
  "...\r\ninit started: BusyBox v1.29.3 (2018-12-19 15:48:20 UTC)\r\n",
  "\x1b[1;33mBooting \x1b[1;32mCore\x1b[0m  \r\nRunning Linux Kernel 6.1.0-57-amd64.\r\n",
  "mkbundle: service hello started\r\nmkbundle: service web started\r\nmkbundle: service hello started\r\n",
].join("");

describe("boot timeline", () => {
  it.each([1, 7, 64, 4096])("pieces of %i bytes: each milestone once, when it arrived", (step) => {
    const t = consoleTimeline();
    for (let end = step, tick = 1; end < CONSOLE.length + step; end += step, tick++)
      t.seen(CONSOLE.slice(0, Math.min(end, CONSOLE.length)), tick);
    const got = t.milestones();
    expect(got.map((m) => m.event)).toEqual([
      "console",
      "kernel",
      "init",
      "Booting Core",
      "service hello",
      "service web",
    ]);
    // A milestone's line has arrived with the line end after it.
    const arrived = (text: string) => Math.ceil((CONSOLE.indexOf(text) + text.length + 1) / step);
    expect(got.find((m) => m.event === "kernel")!.seconds).toBe(arrived("SMP"));
    expect(got.find((m) => m.event === "service web")!.seconds).toBe(arrived("service web started"));
    expect(got.find((m) => m.event === "kernel")!.line).toMatch(/^Linux version 6\.1\.0-57-amd64 /);
  });

  it("merges the checks' first passes in time order, and renders a table", () => {
    const merged = timeline(
      [
        { event: "console", seconds: 1 },
        { event: "service hello", seconds: 9 },
      ],
      [
        { kind: "http", name: "http://127.0.0.1:1/~x", seconds: 12 },
        { kind: "console", name: "/ready/", seconds: 5 },
        { kind: "console", name: "/never/" },
      ],
    );
    expect(merged.map((m) => m.event)).toEqual([
      "console",
      "expect /ready/",
      "service hello",
      "http http://127.0.0.1:1/~x",
    ]);
    expect(renderTimeline(merged, "tcg")[0]).toBe("timeline (software emulation), seconds from QEMU's start:");
    expect(renderTimeline(merged, "tcg")[2]).toBe("     5.0  expect /ready/");
  });
});

describe("when a match's text arrived", () => {
  it("an escape split across two pieces counts with the piece that ends it: offsets are the stripped console's", () => {
    const pieces = ["service a started\n\x1b[1;3", "2mBooting\x1b[0m Core\n", "ready\n"];
    const clock = arrivalClock();
    pieces.forEach((p, i) => clock.arrived(p, i + 1));
    const plain = stripAnsi(pieces.join(""));
    const at = (s: string) => clock.by(plain.indexOf(s) + s.length);
    expect(at("service a started")).toBe(1);
    expect(at("Booting Core")).toBe(2);
    expect(at("ready")).toBe(3); // counted piece by piece, the split escape's 8 characters made this 2
    expect(clock.by(plain.length + 1)).toBeUndefined();
  });
});
