import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createStrategyFromSpec } from '../strategies/create.ts';
import { createClient } from '../topologies/client.ts';
import { type ProbeRequest, Prober, probeDeadlineMs } from './probe.ts';
import { currentOsThreadId } from './proc-stat.ts';
import type { VerifierReply, VerifierRequest, VerifierWorkerData } from './verifier-handle.ts';

/** A verifier instance in a worker thread: its own client and strategy; probes what the generators' ports hand it. */
async function main(): Promise<void> {
  const port = parentPort!;
  const data = workerData as VerifierWorkerData;
  const redis = createClient(data.target, data.client);
  let prober: Prober;
  let strategy: Awaited<ReturnType<typeof createStrategyFromSpec>> | undefined;
  try {
    strategy = await createStrategyFromSpec(data.strategy, { redis, target: data.target, client: data.client });
    prober = new Prober({ strategy, historyPath: data.historyPath, worker: data.worker, deadlineMs: probeDeadlineMs(strategy.guarantee) });
  } catch (error) {
    port.postMessage({ type: 'failed', error: (error as Error).message } satisfies VerifierReply);
    await strategy?.close?.().catch(() => {});
    redis.disconnect();
    for (const generator of data.ports) generator.close();
    return;
  }
  const onProbe = (request: ProbeRequest) => prober.probe(request);
  for (const generator of data.ports as MessagePort[]) generator.on('message', onProbe);
  const closePorts = () => {
    for (const generator of data.ports) generator.close();
  };
  port.on('message', async (request: VerifierRequest) => {
    switch (request.type) {
      case 'origin':
        prober.setOrigin(request.origin);
        return;
      case 'phase':
        prober.setPhase(request.phase);
        return;
      case 'abort':
        prober.stop();
        closePorts();
        return;
      case 'finish':
        closePorts();
        await prober.finish();
        await strategy.close?.().catch(() => {});
        redis.disconnect();
        port.postMessage({ type: 'finished', probed: prober.probed } satisfies VerifierReply);
        port.close();
        return;
    }
  });
  port.postMessage({ type: 'ready', osThreadId: currentOsThreadId() } satisfies VerifierReply);
}

void main();
