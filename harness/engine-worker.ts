import { parentPort, workerData } from 'node:worker_threads';
import { createClient, type ClientOptions, type ClientTarget } from '../topologies/client.ts';
import { createStrategy } from '../strategies/create.ts';
import type { StrategyOptionsInput } from '../strategies/options.ts';
import { LoadEngine, type EngineOptions } from './engine.ts';
import type { Scenario } from './scenario.ts';

/** What a worker thread needs to build its own client, strategy and engine: plain data only. */
export interface EngineWorkerData {
  target: ClientTarget;
  client: ClientOptions;
  strategy: StrategyOptionsInput;
  engine: Omit<EngineOptions, 'strategy' | 'redis' | 'scenario'>;
  scenario: Scenario;
}

export type EngineRequest = { id: number; method: 'login' | 'setOrigin' | 'setPhase' | 'drive' | 'window' | 'reconcile' | 'finish' | 'close'; args: unknown[] } | { type: 'abort' };
export type EngineReply = { id: number; result?: unknown; error?: string } | { type: 'ready' } | { type: 'failed'; error: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as EngineWorkerData;
  const abort = new AbortController();
  let engine: LoadEngine;
  const redis = createClient(data.target, data.client);
  try {
    const strategy = await createStrategy(data.strategy, { redis });
    engine = new LoadEngine({ ...data.engine, scenario: data.scenario, strategy, redis });
  } catch (error) {
    port.postMessage({ type: 'failed', error: (error as Error).message } satisfies EngineReply);
    redis.disconnect();
    return;
  }
  port.on('message', async (request: EngineRequest) => {
    if ('type' in request) {
      abort.abort();
      return;
    }
    try {
      let result: unknown;
      switch (request.method) {
        case 'login':
          result = await engine.login(abort.signal);
          break;
        case 'setOrigin':
          engine.setOrigin(request.args[0] as Parameters<LoadEngine['setOrigin']>[0]);
          break;
        case 'setPhase':
          engine.setPhase(request.args[0] as Parameters<LoadEngine['setPhase']>[0]);
          break;
        case 'drive':
          result = await engine.drive(request.args[0] as number, request.args[1] as number, abort.signal);
          break;
        case 'window':
          result = engine.window();
          break;
        case 'reconcile':
          result = await engine.reconcile();
          break;
        case 'finish':
          result = await engine.finish();
          break;
        case 'close':
          await engine.close();
          redis.disconnect();
          port.close();
          break;
      }
      port.postMessage({ id: request.id, result } satisfies EngineReply);
    } catch (error) {
      port.postMessage({ id: request.id, error: (error as Error).message } satisfies EngineReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies EngineReply);
}

void main();
