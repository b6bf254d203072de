/**
 * The module a load-engine worker thread starts. Built (dist/, plain node) the worker is the
 * compiled engine-worker.js itself. From sources (vitest, tsx) it is engine-worker-entry.js,
 * which registers tsx first: worker threads do not inherit the main thread's TypeScript loader.
 * This file's own extension tells which of the two is running.
 */
export const ENGINE_WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('./engine-worker-entry.js', import.meta.url)
  : new URL('./engine-worker.js', import.meta.url);
