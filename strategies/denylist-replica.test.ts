import { describe, expect, it } from 'vitest';
import { revokedTokenKey, watermarkKey } from './blacklist.ts';
import { classifyKey, ReplicaShard, replicaPrefixes, scanPattern } from './denylist-replica.ts';

const prefixes = replicaPrefixes('tb:');

describe('classifyKey', () => {
  it("tells the blacklist's entries and watermarks from every other key", () => {
    expect(classifyKey(revokedTokenKey('tb:', 'alice', 'j1'), prefixes)).toBe('entry');
    expect(classifyKey(watermarkKey('tb:', 'alice'), prefixes)).toBe('watermark');
    // The bucketed layout's sets and other strategies' keys share the key prefix, not the kind.
    for (const other of ['tb:blb:{g1}:7', 'tb:wl:{alice}:j1', 'tb:bl', 'other:bl:{a}:j', 'warm-up']) expect(classifyKey(other, prefixes)).toBe('other');
  });

  it('subjects that look like a kind stay inside their hash tag', () => {
    expect(classifyKey(revokedTokenKey('tb:', 'wm:', '}'), prefixes)).toBe('entry');
    expect(classifyKey(watermarkKey('tb:', 'bl:x'), prefixes)).toBe('watermark');
  });
});

describe('scanPattern', () => {
  it('escapes glob syntax in the key prefix', () => {
    expect(scanPattern('tb:bl:')).toBe('tb:bl:*');
    expect(scanPattern('a*b?[c]\\:bl:')).toBe('a\\*b\\?\\[c\\]\\\\:bl:*');
  });
});

describe('ReplicaShard', () => {
  it('an invalidated entry is revoked at once, before its confirmation (fail-safe)', () => {
    const shard = new ReplicaShard();
    shard.invalidated('tb:bl:{a}:1', 'entry');
    expect(shard.entries.has('tb:bl:{a}:1')).toBe(true);
    expect(shard.pendingConfirmations).toBe(1);
  });

  it('a confirmation that the key is gone (expired, deleted) removes it', () => {
    const shard = new ReplicaShard();
    shard.loadedEntry('k');
    const ticket = shard.invalidated('k', 'entry');
    shard.confirmEntry('k', ticket, false);
    expect(shard.entries.has('k')).toBe(false);
    expect(shard.pendingConfirmations).toBe(0);
    expect(shard.bytesEstimate).toBe(0);
  });

  it('only the newest confirmation of a key counts: an older "gone" cannot undo a newer write', () => {
    const shard = new ReplicaShard();
    const first = shard.invalidated('k', 'entry');
    const second = shard.invalidated('k', 'entry');
    shard.confirmEntry('k', first, false);
    expect(shard.entries.has('k')).toBe(true);
    shard.confirmEntry('k', second, true);
    expect(shard.entries.has('k')).toBe(true);
    expect(shard.pendingConfirmations).toBe(0);
  });

  it('watermarks only rise, and go when their key expires', () => {
    const shard = new ReplicaShard();
    shard.loadedWatermark('w', '2000');
    shard.loadedWatermark('gone', null);
    expect([...shard.watermarks]).toEqual([['w', 2000]]);
    shard.confirmWatermark('w', shard.invalidated('w', 'watermark'), '1000');
    expect(shard.watermarks.get('w')).toBe(2000);
    shard.confirmWatermark('w', shard.invalidated('w', 'watermark'), '3000');
    expect(shard.watermarks.get('w')).toBe(3000);
    shard.confirmWatermark('w', shard.invalidated('w', 'watermark'), null);
    expect(shard.watermarks.has('w')).toBe(false);
    expect(shard.bytesEstimate).toBe(0);
  });

  it('an invalidated watermark is not guessed: it waits for its GET', () => {
    const shard = new ReplicaShard();
    shard.invalidated('w', 'watermark');
    expect(shard.watermarks.size).toBe(0);
  });

  it('counts each key once in the byte estimate', () => {
    const shard = new ReplicaShard();
    shard.loadedEntry('abc');
    shard.loadedEntry('abc');
    shard.invalidated('abc', 'entry');
    const one = shard.bytesEstimate;
    shard.loadedEntry('abd');
    expect(shard.bytesEstimate).toBe(2 * one);
  });
});
