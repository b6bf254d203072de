import { Worker } from 'node:worker_threads';
import type { StrategySpec } from '../strategies/create.ts';
import type { ClientOptions, ClientTarget } from '../topologies/client.ts';
import type { EngineApi, EngineOptions, LoadEngine } from './engine.ts';
import { createHelperThreadIds, type HelperThreads, helperThreadsOf } from './helper-threads.ts';
import type { Phase } from './history.ts';
import { currentOsThreadId } from './proc-stat.ts';
import type { Scenario } from './scenario.ts';

type Method = keyof EngineApi;
type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** One load generator, in this thread or in a worker thread: the orchestrator drives them alike. */
export type EngineHandle = { readonly [M in Method]: Async<EngineApi[M]> } & {
  readonly historyPath: string;
  /** The OS thread the engine runs on, for its CPU time in the footprint; undefined without /proc. */
  readonly osThreadId: number | undefined;
  /** The engine's helper threads running now (timer thread, history writer), read without a round trip to its thread. */
  helperThreads(): HelperThreads;
  /** Stops the load at once (Ctrl-C); the engine still answers close(). */
  abort(): void;
};

/** What a worker thread needs to build its own client, strategy and engine: plain data only. */
export interface EngineWorkerData {
  target: ClientTarget;
  client: ClientOptions;
  strategy: StrategySpec;
  engine: Omit<EngineOptions, 'strategy' | 'redis' | 'scenario' | 'signal'>;
  scenario: Scenario;
}

/** A call of any EngineApi method, typed by the method: adding a method to EngineApi is the whole change. */
export type EngineRequest = { [M in Method]: { id: number; method: M; args: Parameters<EngineApi[M]> } }[Method] | { type: 'abort' };
export type EngineReply =
  | { id: number; result?: unknown; error?: string }
  | { type: 'ready'; osThreadId: number | undefined }
  | { type: 'failed'; error: string };

// A record, not a list: a method added to EngineApi and forgotten here fails to compile instead of
// failing at run time ("h.localState is not a function").
const EVERY_METHOD: Record<Method, true> = {
  login: true,
  setOrigin: true,
  setPhase: true,
  drive: true,
  window: true,
  reconcile: true,
  finish: true,
  localState: true,
  close: true,
};
const METHODS = Object.keys(EVERY_METHOD) as Method[];

/** The engine in this thread; abort is its signal's, owned by the caller. */
export function localHandle(engine: LoadEngine, historyPath: string): EngineHandle {
  const handle = { historyPath, osThreadId: currentOsThreadId(), helperThreads: () => engine.helperThreads(), abort: () => {} } as Record<string, unknown>;
  for (const method of METHODS) handle[method] = async (...args: unknown[]) => (engine[method] as (...a: unknown[]) => unknown).apply(engine, args);
  return handle as EngineHandle;
}

/** An engine in a worker thread of its own, started and ready. */
export async function workerHandle(data: EngineWorkerData, entry: URL): Promise<EngineHandle> {
  // Shared memory the worker's helper threads write their ids into: the footprint reads it at each
  // sampling, and the helpers come and go without telling this thread.
  const helperThreadIds = createHelperThreadIds();
  const workerData: EngineWorkerData = { ...data, engine: { ...data.engine, helperThreadIds } };
  const worker = new Worker(entry, { workerData, transferList: [...(data.engine.probePorts ?? [])] });
  const label = `load worker ${data.engine.worker}`;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let exited = false;
  let osThreadId: number | undefined;
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: EngineReply) => {
      if ('type' in reply) {
        if (reply.type === 'ready') {
          osThreadId = reply.osThreadId;
          resolve();
        } else reject(new Error(`${label} failed to start: ${reply.error}`));
        return;
      }
      const call = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.error !== undefined) call?.reject(new Error(reply.error));
      else call?.resolve(reply.result);
    });
    worker.on('error', (error) => {
      reject(error);
      for (const call of pending.values()) call.reject(error);
    });
    worker.on('exit', () => {
      exited = true;
      for (const call of pending.values()) call.reject(new Error(`${label} exited`));
    });
  });
  const call = (method: Method, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`${label} has exited`));
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args } as EngineRequest);
    });
  const handle = {
    historyPath: data.engine.historyPath,
    osThreadId,
    helperThreads: () => helperThreadsOf(helperThreadIds),
    abort: () => {
      if (!exited) worker.postMessage({ type: 'abort' } satisfies EngineRequest);
    },
  } as Record<string, unknown>;
  for (const method of METHODS) handle[method] = (...args: unknown[]) => call(method, args);
  // A phase change is news, not a question: nobody waits for it, and a worker gone is no error here.
  handle.setPhase = (phase: Phase) => call('setPhase', [phase]).catch(() => {});
  handle.close = async () => {
    if (exited) return;
    await call('close', []).catch(() => {});
    await worker.terminate();
  };
  return handle as EngineHandle;
}
