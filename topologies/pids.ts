/** Whether a process exists (EPERM: it does, owned by someone else). Leftover finders ask it of owner pids. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
