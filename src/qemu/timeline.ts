// Where boot time goes: from QEMU's start, the first console output, the kernel's first line,
// busybox init, Tiny Core's tc-config ("Booting Core"), each mkbundle service's start, each --expect match and
// the first good --http answer, timed as the console arrives. Milestones the console never
// shows (a kernel without console=ttyS0 prints nothing) are left out, not guessed.

import { stripAnsi } from "./ansi.js";

export interface Milestone {
  /** "console", "kernel", "init", "service NAME", "expect /RE/", "http URL~RE". */
  event: string;
  /** Seconds from QEMU's start. */
  seconds: number;
  /** The console line that marked it, when one did. */
  line?: string;
}

const MARKS: { event: string; re: RegExp }[] = [
  { event: "kernel", re: /Linux version \d[^\r\n]*(?=[\r\n])/ }, // printed when the boot line's loglevel lets it
  { event: "init", re: /init started: BusyBox[^\r\n]*(?=[\r\n])/ },
  { event: "Booting Core", re: /Booting Core[^\r\n]*(?=[\r\n])/ }, // Tiny Core's tc-config begins
];
/** Whole lines only: a milestone is timed when its line has arrived. */
const SERVICE = /mkbundle: service (\S+) started(?: as \S+)?(?=[\r\n])/g;
/** A service line is at most this long: the rest of a long console is not searched again. */
const TAIL = 4096;

/** Watches the console as it grows; `seen(text, seconds)` takes the whole console so far. */
export function consoleTimeline(): { seen(text: string, seconds: number): void; milestones(): Milestone[] } {
  const found: Milestone[] = [];
  const has = new Set<string>();
  let searched = 0;
  const add = (event: string, seconds: number, line?: string) => {
    if (has.has(event)) return;
    has.add(event);
    found.push({ event, seconds, ...(line ? { line: line.trim().slice(0, 200) } : {}) });
  };
  return {
    seen(text, seconds) {
      if (text.length) add("console", seconds);
      // Only what arrived since the last look (and a line's worth before it) is searched.
      const fresh = stripAnsi(text.slice(Math.max(0, searched - TAIL)));
      searched = text.length;
      for (const m of MARKS) {
        if (has.has(m.event)) continue;
        const hit = m.re.exec(fresh);
        if (hit) add(m.event, seconds, hit[0]);
      }
      for (const hit of fresh.matchAll(SERVICE)) add(`service ${hit[1]!}`, seconds, hit[0]);
    },
    milestones: () => [...found],
  };
}

/** The console's milestones and the checks' first passes, in time order. */
export function timeline(
  console: readonly Milestone[],
  checks: readonly { kind: string; name: string; seconds?: number }[],
): Milestone[] {
  const passed = checks.flatMap((c) =>
    c.seconds === undefined
      ? []
      : [{ event: `${c.kind === "console" ? "expect" : "http"} ${c.name}`, seconds: c.seconds }],
  );
  return [...console, ...passed].sort((a, b) => a.seconds - b.seconds);
}

/** The timeline as a short table for a person. */
export function renderTimeline(t: readonly Milestone[], accel: string): string[] {
  if (!t.length) return [];
  return [
    `timeline (${accel === "kvm" ? "KVM" : "software emulation"}), seconds from QEMU's start:`,
    ...t.map((m) => {
      const said = m.line && m.line !== m.event && !m.event.startsWith("service") ? `: ${m.line}` : "";
      return `  ${m.seconds.toFixed(1).padStart(6)}  ${m.event}${said.length > 72 ? `${said.slice(0, 71)}…` : said}`;
    }),
  ];
}

/**
 * When each piece of the console arrived, by offsets in the console as the checks see it
 * (colour codes stripped): a match is timed by the piece that completed it, not by the poll
 * that noticed it. An escape split across two pieces is counted with the piece that ends it,
 * so the offsets add up to the stripped whole.
 */
export function arrivalClock(): { arrived(text: string, seconds: number): void; by(end: number): number | undefined } {
  const arrivals: { end: number; at: number }[] = [];
  let plain = 0;
  let carry = "";
  return {
    arrived(text, seconds) {
      const raw = carry + text;
      const open = /\x1b(?:\[[0-9;?]*)?$/.exec(raw); // an escape still missing its final letter
      carry = open ? raw.slice(open.index) : "";
      plain += stripAnsi(open ? raw.slice(0, open.index) : raw).length;
      arrivals.push({ end: plain, at: seconds });
    },
    by: (end) => arrivals.find((a) => a.end >= end)?.at,
  };
}
