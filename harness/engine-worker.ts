import { parentPort, workerData } from 'node:worker_threads';
import { createStrategyFromSpec } from '../strategies/create.ts';
import type { Strategy } from '../strategies/types.ts';
import { createClient } from '../topologies/client.ts';
import { LoadEngine } from './engine.ts';
import type { EngineReply, EngineRequest, EngineWorkerData } from './engine-handle.ts';
import { currentOsThreadId } from './proc-stat.ts';

/** A load generator in a worker thread: builds its own client, strategy and engine, then serves EngineApi calls. */
async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as EngineWorkerData;
  const abort = new AbortController();
  let engine: LoadEngine;
  const redis = createClient(data.target, data.client);
  let strategy: Strategy | undefined;
  try {
    strategy = await createStrategyFromSpec(data.strategy, { redis, target: data.target, client: data.client });
    engine = new LoadEngine({ ...data.engine, scenario: data.scenario, strategy, redis, signal: abort.signal });
  } catch (error) {
    port.postMessage({ type: 'failed', error: (error as Error).message } satisfies EngineReply);
    await strategy?.close?.().catch(() => {});
    redis.disconnect();
    return;
  }
  port.on('message', async (request: EngineRequest) => {
    if ('type' in request) {
      abort.abort();
      return;
    }
    try {
      const result = await (engine[request.method] as (...args: unknown[]) => unknown).apply(engine, request.args);
      if (request.method === 'close') {
        await strategy?.close?.().catch(() => {});
        redis.disconnect();
        port.close();
      }
      port.postMessage({ id: request.id, result } satisfies EngineReply);
    } catch (error) {
      port.postMessage({ id: request.id, error: (error as Error).message } satisfies EngineReply);
    }
  });
  port.postMessage({ type: 'ready', osThreadId: currentOsThreadId() } satisfies EngineReply);
}

void main();
