// Where a run of the CLI reads its environment and writes its output: the process's for a
// real run (main.ts), captured ones when a test runs the CLI in-process. Bound to the
// program object, so that two runs in one process never share their streams.
import type { Command } from "commander";
import type { Env } from "../config/environment.js";

export interface CliIo {
  env: Env;
  /** Results: paths, YAML, JSON, file bytes. */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Logs, diagnostics, progress, help for mistakes. */
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

const bound = new WeakMap<Command, CliIo>();

export const bindIo = (program: Command, io: CliIo): void => void bound.set(program, io);

/** The io of the run a command belongs to. */
export function ioOf(cmd: Command): CliIo {
  let root = cmd;
  while (root.parent) root = root.parent;
  const io = bound.get(root);
  if (!io) throw new Error("mkbundle: a command ran outside a program bound to its io"); // a bug
  return io;
}
