import { type MessagePort, Worker } from 'node:worker_threads';
import type { StrategySpec } from '../strategies/create.ts';
import type { ClientOptions, ClientTarget } from '../topologies/client.ts';
import type { Origin } from './engine.ts';
import type { Phase } from './history.ts';

/** What a verifier thread needs: plain data, and one port per load generator (transferred). */
export interface VerifierWorkerData {
  target: ClientTarget;
  client: ClientOptions;
  strategy: StrategySpec;
  historyPath: string;
  worker: number;
  ports: MessagePort[];
}

/** News only, no answer awaited, except finish: the probes' history must be on disk before the checkers read it. */
export type VerifierRequest = { type: 'origin'; origin: Origin } | { type: 'phase'; phase: Phase } | { type: 'abort' } | { type: 'finish' };
export type VerifierReply = { type: 'ready'; osThreadId: number | undefined } | { type: 'failed'; error: string } | { type: 'finished'; probed: number };

/** One verifier instance (load.verifiers) in its own worker thread, as the orchestrator drives it. */
export interface VerifierHandle {
  readonly historyPath: string;
  readonly osThreadId: number | undefined;
  setOrigin(origin: Origin): void;
  setPhase(phase: Phase): void;
  /** Stops probing at once (Ctrl-C); finish() or close() still end the thread. */
  abort(): void;
  /** Stops probing, waits for the verifies in flight and the history on disk; returns how many tokens it probed. */
  finish(): Promise<number>;
  /** Ends the thread, finished or not. Idempotent. */
  close(): Promise<void>;
}

export async function startVerifier(data: VerifierWorkerData, entry: URL): Promise<VerifierHandle> {
  const worker = new Worker(entry, { workerData: data, transferList: data.ports });
  const label = `verifier instance ${data.worker}`;
  let exited = false;
  let osThreadId: number | undefined;
  let finished: { resolve: (probed: number) => void; reject: (e: Error) => void } | undefined;
  worker.on('exit', () => {
    exited = true;
    finished?.reject(new Error(`${label} exited`));
  });
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: VerifierReply) => {
      if (reply.type === 'ready') {
        osThreadId = reply.osThreadId;
        resolve();
      } else if (reply.type === 'failed') reject(new Error(`${label} failed to start: ${reply.error}`));
      else finished?.resolve(reply.probed);
    });
    worker.on('error', (error) => {
      reject(error);
      finished?.reject(error);
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  const send = (request: VerifierRequest) => {
    if (!exited) worker.postMessage(request);
  };
  let finishing: Promise<number> | undefined;
  return {
    historyPath: data.historyPath,
    osThreadId,
    setOrigin: (origin) => send({ type: 'origin', origin }),
    setPhase: (phase) => send({ type: 'phase', phase }),
    abort: () => send({ type: 'abort' }),
    finish() {
      finishing ??= exited
        ? Promise.reject(new Error(`${label} has exited`))
        : new Promise<number>((resolve, reject) => {
            finished = { resolve, reject };
            send({ type: 'finish' });
          });
      return finishing;
    },
    async close() {
      if (!exited) await worker.terminate();
    },
  };
}
