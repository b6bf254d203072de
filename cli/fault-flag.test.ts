import { describe, expect, it } from 'vitest';
import { parseFaultFlag } from './run-command.ts';

describe('--fault', () => {
  it('reads process faults as before', () => {
    expect(parseFaultFlag('kill:primary@10s')).toEqual({ action: 'kill', target: 'primary', at: 10_000 });
    expect(parseFaultFlag('pause:shard-primary:1@5s+5s')).toEqual({ action: 'pause', target: 'shard-primary:1', at: 5000, for: 5000 });
  });

  it('reads the two sides of a network fault, its direction and its amount', () => {
    expect(parseFaultFlag('partition:primary@10s+5s')).toEqual({ action: 'partition', target: 'primary', at: 10_000, for: 5000 });
    expect(parseFaultFlag('partition:primary|sentinels@10s+5s')).toMatchObject({ target: 'primary', from: 'sentinels' });
    expect(parseFaultFlag('partition:primary+clients:near>rest@1s')).toMatchObject({ target: 'primary+clients:near', from: 'rest', direction: 'outbound' });
    expect(parseFaultFlag('partition:primary<replicas@1s')).toMatchObject({ direction: 'inbound' });
    expect(parseFaultFlag('loss:primary-replicas:10%@5s+5s')).toEqual({ action: 'loss', target: 'primary', from: 'replicas', loss: 10, at: 5000, for: 5000 });
    expect(parseFaultFlag('loss:12.5%@5s')).toEqual({ action: 'loss', loss: 12.5, at: 5000 });
    expect(parseFaultFlag('delay:primary|replicas:50ms~10ms@5s+10s')).toMatchObject({
      target: 'primary',
      from: 'replicas',
      delay: 50,
      jitter: 10,
      for: 10_000,
    });
    expect(parseFaultFlag('delay:shard-primary:0|replicas:1s@5s')).toMatchObject({ target: 'shard-primary:0', from: 'replicas', delay: 1000 });
    // A node id keeps its dash: only two plain words read as `a-b`.
    expect(parseFaultFlag('partition:redis-2@1s')).toMatchObject({ target: 'redis-2' });
  });

  it('says what it expected', () => {
    expect(() => parseFaultFlag('partition:primary')).toThrow(/--fault: expected action\[:target\]@time\[\+for\]/);
    expect(() => parseFaultFlag('loss:primary@5s')).toThrow(/--fault \(loss\): expected a percentage at the end/);
    expect(() => parseFaultFlag('delay:primary|replicas:slow@5s')).toThrow(/--fault \(delay\): expected/);
  });
});
