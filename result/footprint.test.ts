import { describe, expect, it } from 'vitest';
import { footprintWith } from '../test/support/footprint.ts';
import { footprintFigures, SHORT_OF_CPU } from './footprint.ts';

describe('footprint figures', () => {
  it('turns CPU seconds into shares of a core and of the machine', () => {
    const f = footprintFigures(footprintWith({ generatorCore: 0.5, redisCore: 0.3, notIdle: 0.6, steal: 0.1, wallMs: 4000 }), 1);
    expect(f.busiestGeneratorCoreShare).toBeCloseTo(0.5);
    expect(f.tokenbenchCoreShare).toBeCloseTo(0.55);
    expect(f.tokenbenchMachineShare).toBeCloseTo(0.275);
    expect(f.redisCoreShare).toBeCloseTo(0.3);
    // busy 0.5 of the machine, of which tokenbench 0.275 and Redis 0.15.
    expect(f.otherMachineShare).toBeCloseTo(0.075);
    expect(f.notIdleShare).toBeCloseTo(0.6);
    expect(f).toMatchObject({ generatorShort: false, machineShort: false });
  });

  it('is short of CPU at the limits, not below them', () => {
    const at = footprintWith({ generatorCore: SHORT_OF_CPU.generatorCoreShare, redisCore: 0.1, notIdle: SHORT_OF_CPU.machineNotIdleShare });
    expect(footprintFigures(at, 1)).toMatchObject({ generatorShort: true, machineShort: true });
    const below = footprintWith({ generatorCore: 0.89, redisCore: 0.1, notIdle: 0.89 });
    expect(footprintFigures(below, 1)).toMatchObject({ generatorShort: false, machineShort: false });
  });

  it('without per-thread figures, judges the generators by their average, which never overstates the busiest', () => {
    const fp = footprintWith({ generatorCore: 0.95, redisCore: 0.1, notIdle: 0.5 });
    fp.tokenbench.generatorThreads = null;
    // 1.045 of a core for the process: one generator was short; two might not have been.
    expect(footprintFigures(fp, 1).generatorShort).toBe(true);
    expect(footprintFigures(fp, 2).generatorShort).toBe(false);
  });

  it('leaves out what was not measured instead of counting it as zero', () => {
    const fp = footprintWith({ generatorCore: 0.5, redisCore: 0.3, notIdle: 0.95 });
    fp.redis = { unmeasured: 'an external deployment', servers: [] };
    fp.machine = null;
    const f = footprintFigures(fp, 1);
    expect(f).toMatchObject({ redisCoreShare: null, otherMachineShare: null, notIdleShare: null, tokenbenchMachineShare: null, machineShort: false });
  });
});
