/**
 * The modules the worker threads start. Built (dist/, plain node) a worker is the compiled
 * engine-worker.js (verifier-worker.js) itself. From sources (vitest, tsx) it is the
 * *-entry.js beside it, which registers tsx first: worker threads do not inherit the main
 * thread's TypeScript loader. This file's own extension tells which of the two is running.
 */
const fromSources = import.meta.url.endsWith('.ts');

export const ENGINE_WORKER_URL = new URL(fromSources ? './engine-worker-entry.js' : './engine-worker.js', import.meta.url);

export const VERIFIER_WORKER_URL = new URL(fromSources ? './verifier-worker-entry.js' : './verifier-worker.js', import.meta.url);

export const HISTORY_WRITER_URL = new URL(fromSources ? './history-writer-worker-entry.js' : './history-writer-worker.js', import.meta.url);
