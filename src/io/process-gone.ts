// Whether the process that left a file behind (a lock, a partial download, a pull's temp
// file) is gone, so the file may be reclaimed. Only "no such process" counts: a process of
// another user (EPERM) is alive.
export function processGone(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}
