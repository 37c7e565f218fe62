// JUnit XML for CI systems: one testsuite, one testcase per check, the console in system-out.
import type { BootTestResult } from "./boot-test.js";

const escape = (s: string) =>
  s
    // XML 1.0 allows only these control characters; a console log holds others.
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

export function junitXml(image: string, r: BootTestResult): string {
  const failures = r.checks.filter((c) => !c.passed).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="mkbundle test" tests="${r.checks.length}" failures="${failures}" time="${r.seconds.toFixed(3)}">`,
    `  <testsuite name="${escape(`mkbundle test ${image}`)}" tests="${r.checks.length}" failures="${failures}" errors="0" skipped="0" time="${r.seconds.toFixed(3)}">`,
    "    <properties>",
    `      <property name="accelerator" value="${r.accel}"/>`,
    `      <property name="accelerator.why" value="${escape(r.accelWhy)}"/>`,
    ...r.timeline.map(
      (m) => `      <property name="${escape(`timeline ${m.event}`)}" value="${m.seconds.toFixed(3)}"/>`,
    ),
    "    </properties>",
  ];
  for (const c of r.checks) {
    const time = (c.seconds ?? r.seconds).toFixed(3);
    lines.push(`    <testcase classname="${c.kind}" name="${escape(c.name)}" time="${time}">`);
    if (!c.passed) {
      const why =
        c.kind === "console"
          ? `the console never showed ${c.name}`
          : `${c.name} never matched (last: ${c.last ?? "no answer"})`;
      lines.push(
        `      <failure message="${escape(why)}" type="${c.kind}">${escape(r.exit ? `${why}; ${r.exit}` : why)}</failure>`,
      );
    }
    lines.push("    </testcase>");
  }
  lines.push(`    <system-out>${escape(r.console)}</system-out>`, "  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}
