import { describe, expect, it } from 'vitest';
import { loadResult } from '../result/schema.ts';
import { footprintWith } from '../test/support/footprint.ts';
import { footprintRow } from './footprint.ts';

const run = loadResult(new URL('./fixtures/single-quick.json', import.meta.url).pathname).runs[0]!;
const processCell = (footprint: ReturnType<typeof footprintWith>) => footprintRow(run, footprint)[2];

describe('the tokenbench process cell', () => {
  // 6 s measured: 0.18 s is 3% of a core.
  const base = footprintWith({ generatorCore: 0.4, redisCore: 0.2, notIdle: 0.5 });

  it('adds the helper threads, each kind summed over the generators, a lower bound marked ≥', () => {
    const footprint = structuredClone(base);
    footprint.tokenbench.helperThreads = [
      { thread: 'timer thread (main)', cpuSeconds: 0.18, lowerBound: true },
      { thread: 'history writer (main)', cpuSeconds: 0.06 },
    ];
    expect(processCell(footprint)).toBe('44% of a core, 22% of 2 CPUs (peak 48%; timer thread ≥3%, history writer 1%)');

    footprint.tokenbench.helperThreads = [
      { thread: 'timer thread (worker 0)', cpuSeconds: 0.12, lowerBound: true },
      { thread: 'timer thread (worker 1)', cpuSeconds: 0.12 },
      { thread: 'history writer (worker 0)', cpuSeconds: 0.03 },
      { thread: 'history writer (worker 1)', cpuSeconds: 0.03 },
    ];
    expect(processCell(footprint)).toBe('44% of a core, 22% of 2 CPUs (peak 48%; 2 timer threads ≥4%, 2 history writers 1%)');
  });

  it('reads as before without helper figures: an older result, no /proc, or none seen', () => {
    expect(processCell(base)).toBe('44% of a core, 22% of 2 CPUs (peak 48%)');
    expect(processCell({ ...base, tokenbench: { ...base.tokenbench, helperThreads: null } })).toBe('44% of a core, 22% of 2 CPUs (peak 48%)');
    expect(processCell({ ...base, tokenbench: { ...base.tokenbench, helperThreads: [] } })).toBe('44% of a core, 22% of 2 CPUs (peak 48%)');
  });
});
