// Work to undo when mkbundle is interrupted (QEMU to kill, temporary files to remove).
// The CLI runs it on SIGINT, SIGTERM and SIGHUP before it exits (cli/program.ts).
const tasks = new Set<() => void>();

/** Registers `task`; returns the function that unregisters it. */
export function onInterrupt(task: () => void): () => void {
  tasks.add(task);
  return () => void tasks.delete(task);
}

export function runInterruptTasks(): void {
  for (const t of [...tasks]) {
    try {
      t();
    } catch {
      // keep going: the others must still run
    }
  }
  tasks.clear();
}
