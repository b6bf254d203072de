/**
 * The last line of defence against orphans: synchronous cleanups that run on every way out of the
 * process (normal exit, uncaught error, SIGINT / SIGTERM / SIGHUP). One handler for all backends,
 * so that they do not mistake each other's listeners for an application owning the shutdown.
 */
const cleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

export function onExitSync(cleanup: () => void): void {
  cleanups.add(cleanup);
  if (installed) return;
  installed = true;
  // 'exit' also runs after an uncaught exception and after process.exit().
  process.on('exit', runAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function runAll(): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {}
  }
}

function onSignal(signal: NodeJS.Signals): void {
  // An application that listens for the signal itself (the CLI) owns the shutdown: it stops load,
  // writes results and then stops topologies. Only when nobody else listens do we act as the default.
  if (process.listenerCount(signal) > 1) return;
  runAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}
