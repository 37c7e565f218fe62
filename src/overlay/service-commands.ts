// A service whose program is not in the image fails at boot with "not found" on a console
// nobody reads. Catch it at build time: the first word of each command in a service's
// `run` must be a shell builtin, a function it defines, an absolute path in the image, or a
// program on the boot PATH, in the final tree (base initrd + overlay + builtin extensions).
import { keyPath, MkError, type Diagnostic } from "../errors.js";
import { didYouMean } from "../manifest/did-you-mean.js";
import { BOOT_PATH } from "../tinycore/layout.js";
import type { OverlayInput } from "./types.js";

/** ash's builtins and reserved words: no file is needed for these. */
const SHELL_WORDS = new Set(
  (
    ". : [ [[ alias bg break cd chdir command continue echo eval exec exit export false fc fg getopts hash help history jobs kill " +
    "let local printf pwd read readonly return set shift test times trap true type ulimit umask unalias unset wait " +
    "if then else elif fi case esac for select while until do done in function time { } ! ( )"
  ).split(" "),
);
/** Words that run the command after them. */
const PREFIXES = new Set([
  "exec",
  "nohup",
  "env",
  "nice",
  "setsid",
  "timeout",
  "if",
  "then",
  "else",
  "elif",
  "do",
  "while",
  "until",
  "!",
  "time",
  "{",
  "(",
]);

/** Splits a line at ; & | && || outside quotes (not the & of a redirection such as 2>&1). */
function simpleCommands(line: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      current += c;
    } else if (c === ";" || c === "|" || (c === "&" && line[i - 1] !== ">" && line[i + 1] !== ">")) {
      out.push(current);
      current = "";
      if ((c === "|" || c === "&") && line[i + 1] === c) i++;
    } else current += c;
  }
  out.push(current);
  return out;
}

/** The programs a shell command line starts: the first word of each simple command, where that is obvious. */
export function programsOf(run: string): string[] {
  const defined = new Set(
    [...run.matchAll(/(?:^|[;\n{])\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\s*\)/g)].map((m) => m[1]!),
  );
  const out: string[] = [];
  // $(...) and `...` run their commands too.
  for (const inner of substitutions(run)) out.push(...programsOf(inner));
  // Their words are not this line's: n=$(cat /tmp/n || echo 0) assigns, it does not run /tmp/n.
  for (const line of blankSubstitutions(run).split("\n")) {
    const code = line.replace(/(^|\s)#.*$/, "");
    for (const segment of simpleCommands(code)) {
      // A function definition's body starts with a command too: serve() { busybox nc ...
      const body = segment.replace(/^\s*(?:function\s+)?[A-Za-z_][\w-]*\s*\(\s*\)\s*\{?/, "");
      const words = body.trim().split(/\s+/).filter(Boolean);
      let i = 0;
      const skipAssignmentsAndRedirections = () => {
        while (i < words.length && (/^[A-Za-z_]\w*=/.test(words[i]!) || /^\d*[<>]/.test(words[i]!))) i++;
      };
      skipAssignmentsAndRedirections();
      while (i < words.length && PREFIXES.has(words[i]!)) {
        const w = words[i++]!;
        if (w === "timeout") {
          while (i < words.length && words[i]!.startsWith("-")) i += /^-[sk]$/.test(words[i]!) ? 2 : 1; // -s SIGNAL, -k DURATION
          if (/^\d/.test(words[i] ?? "")) i++; // the duration
        }
        if (w === "nice") while (i < words.length && /^(-|\d)/.test(words[i]!)) i++; // -n 5, -5
        if (w === "env") while (i < words.length && words[i]!.startsWith("-")) i++;
        skipAssignmentsAndRedirections();
      }
      const word = words[i];
      if (!word || /^(for|case|select)$/.test(words[0]!)) continue;
      // sh -c 'inner': the inner command line is what runs.
      if (/^(\/bin\/)?(ba|a)?sh$/.test(word) && words[i + 1] === "-c") {
        const inner = /-c\s+(['"])([\s\S]*?)\1/.exec(segment);
        out.push(word);
        if (inner) out.push(...programsOf(inner[2]!));
        continue;
      }
      if (
        /[$`'"()*?\\]/.test(word) ||
        SHELL_WORDS.has(word) ||
        defined.has(word) ||
        word.startsWith("./") ||
        word.startsWith("../")
      )
        continue;
      out.push(word);
    }
  }
  return [...new Set(out)];
}

/** The end (exclusive) of the parenthesised span that starts at `open` ("("), quotes respected. */
function closing(run: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let j = open; j < run.length; j++) {
    const c = run[j]!;
    if (quote) quote = c === quote ? undefined : quote;
    else if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return j + 1;
  }
  return run.length;
}

/** `run` with each $(...), $((...)) and `...` replaced by one word, $_. */
function blankSubstitutions(run: string): string {
  let out = "";
  let at = 0;
  for (let i = run.indexOf("$("); i >= 0; i = run.indexOf("$(", at)) {
    out += `${run.slice(at, i)}$_`;
    at = closing(run, i + 1);
  }
  return (out + run.slice(at)).replace(/`[^`]*`/g, "$_");
}

/** The command lines inside $(...) and `...` (not $((arithmetic))), outermost first. */
function substitutions(run: string): string[] {
  const out: string[] = [];
  for (const m of run.matchAll(/`([^`]*)`/g)) out.push(m[1]!);
  for (let i = run.indexOf("$("); i >= 0; i = run.indexOf("$(", i + 2)) {
    if (run[i + 2] === "(") continue;
    let depth = 1;
    let quote: string | undefined;
    let j = i + 2;
    for (; j < run.length && depth > 0; j++) {
      const c = run[j]!;
      if (quote) quote = c === quote ? undefined : quote;
      else if (c === "'" || c === '"') quote = c;
      else if (c === "(") depth++;
      else if (c === ")") depth--;
    }
    if (depth === 0) out.push(run.slice(i + 2, j - 1));
  }
  return out;
}

/** Where `program` would be found in the image, or undefined. */
function locate(program: string, has: (path: string) => boolean): string | undefined {
  if (program.startsWith("/")) return has(program.slice(1)) ? program : undefined;
  if (program.includes("/")) return program; // relative to a directory only the service knows
  const dir = BOOT_PATH.find((d) => has(`${d}/${program}`));
  return dir ? `/${dir}/${program}` : undefined;
}

/** Throws (exit 2) naming each service, its manifest line and the program the image lacks. */
export function checkServiceCommands(
  input: OverlayInput,
  has: (path: string) => boolean,
  /** Every path in the image, for a close name to suggest. */
  paths: () => Iterable<string>,
): void {
  if (input.allowMissingCommands) return;
  const problems: Diagnostic[] = [];
  for (const [i, s] of input.manifest.services.entries()) {
    for (const program of programsOf(s.run)) {
      if (locate(program, has)) continue;
      const at = input.locate?.(["services", i, "run"]) ?? { file: "", line: 0, column: 0 };
      problems.push({
        severity: "error",
        ...at,
        path: keyPath(["services", i, "run"]),
        message: `service '${s.name}' runs '${program}', which is not in the image`,
        hint:
          closeName(program, paths) +
          (program.startsWith("/")
            ? "no such file in the base initrd, the overlay or a builtin extension; ship it with files:, or pass --allow-missing-commands"
            : `not on the boot PATH (/${BOOT_PATH.join(", /")}) of the base initrd, the overlay or a builtin extension; add the extension that has it to extensions.builtin, ship it with files:, or pass --allow-missing-commands`),
      });
    }
  }
  if (problems.length) throw new MkError("manifest", problems);
}

/** Each service's user: an account in the image's /etc/passwd (`passwd`: its text, as the image will have it). */
export function checkServiceUsers(input: OverlayInput, passwd: string): void {
  const accounts = new Set(passwd.split("\n").map((l) => l.split(":")[0]!));
  const problems: Diagnostic[] = input.manifest.services.flatMap((s, i) =>
    !s.user || accounts.has(s.user)
      ? []
      : [
          {
            severity: "error" as const,
            ...(input.locate?.(["services", i, "user"]) ?? { file: "", line: 0, column: 0 }),
            path: keyPath(["services", i, "user"]),
            message: `service '${s.name}' runs as '${s.user}', an account the image's /etc/passwd does not have`,
            hint: `it has ${[...accounts].filter(Boolean).join(", ")}`,
          },
        ],
  );
  if (problems.length) throw new MkError("manifest", problems);
}

/** "did you mean 'parted'? " when the image has a program named close to `program`. */
function closeName(program: string, paths: () => Iterable<string>): string {
  const slash = program.lastIndexOf("/");
  const dirs = slash > 0 ? [program.slice(1, slash)] : BOOT_PATH;
  const names = new Set<string>();
  for (const p of paths()) {
    const at = p.lastIndexOf("/");
    if (dirs.includes(p.slice(0, at))) names.add(p.slice(at + 1));
  }
  const guess = didYouMean(program.slice(slash + 1), [...names]);
  return guess ? `did you mean '${slash > 0 ? `${program.slice(0, slash)}/` : ""}${guess}'? ` : "";
}
