import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../core/errors.ts';
import { composeLinks, type LinkRule, queueNumber, renderInputChain, TABLE_NAME_PATTERN, tableName, validateRules } from './nft.ts';

const A = '127.77.5.1';
const B = '127.77.5.2';
const C = '127.77.5.3';

describe('nft text of the input chain', () => {
  it('empty: creates the table and chain if missing and flushes the chain, in one transaction', () => {
    expect(renderInputChain('tokenbench_42_5', [])).toBe(
      [
        'table inet tokenbench_42_5 {',
        '  chain input {',
        '    type filter hook input priority filter; policy accept;',
        '  }',
        '}',
        'flush chain inet tokenbench_42_5 input',
        '',
      ].join('\n'),
    );
  });

  it('a drop and a loss: exact address pairs on lo; loss in basis points', () => {
    const text = renderInputChain(
      'T',
      composeLinks([
        { from: A, to: B, effect: { kind: 'drop' } },
        { from: B, to: C, effect: { kind: 'loss', percent: 12.5 } },
      ]),
    );
    expect(text.split('\n').filter((l) => l.startsWith('add rule'))).toEqual([
      `add rule inet T input iif "lo" ip saddr ${A} ip daddr ${B} drop`,
      `add rule inet T input iif "lo" ip saddr ${B} ip daddr ${C} numgen random mod 10000 < 1250 drop`,
    ]);
  });

  it('delays are not in the input chain (the holder writes them)', () => {
    const text = renderInputChain('T', composeLinks([{ from: A, to: B, effect: { kind: 'delay', delayMs: 50, jitterMs: 0 } }]));
    expect(text).not.toContain('add rule');
  });
});

describe('composing faults of one pair', () => {
  it('a drop wins over loss and delay', () => {
    const links = composeLinks([
      { from: A, to: B, effect: { kind: 'loss', percent: 30 } },
      { from: A, to: B, effect: { kind: 'delay', delayMs: 10, jitterMs: 5 } },
      { from: A, to: B, effect: { kind: 'drop' } },
    ]);
    expect(links).toEqual([{ from: A, to: B, drop: true, lossPercents: [] }]);
  });

  it('losses stay independent draws; delays and jitters add up; directions stay apart', () => {
    const links = composeLinks([
      { from: A, to: B, effect: { kind: 'loss', percent: 50 } },
      { from: A, to: B, effect: { kind: 'loss', percent: 50 } },
      { from: A, to: B, effect: { kind: 'delay', delayMs: 10, jitterMs: 2 } },
      { from: A, to: B, effect: { kind: 'delay', delayMs: 30, jitterMs: 4 } },
      { from: B, to: A, effect: { kind: 'drop' } },
    ]);
    expect(links).toEqual([
      { from: A, to: B, drop: false, lossPercents: [50, 50], delay: { delayMs: 40, jitterMs: 6 } },
      { from: B, to: A, drop: true, lossPercents: [] },
    ]);
    expect(renderInputChain('T', links).match(/numgen/g)).toHaveLength(2);
  });
});

describe('validation', () => {
  const bad: [string, LinkRule][] = [
    ['rules[0].from', { from: '127.77.5.1; flush ruleset', to: B, effect: { kind: 'drop' } }],
    ['rules[0].to', { from: A, to: 'localhost', effect: { kind: 'drop' } }],
    ['rules[0].effect.percent', { from: A, to: B, effect: { kind: 'loss', percent: 0 } }],
    ['rules[0].effect.percent', { from: A, to: B, effect: { kind: 'loss', percent: 101 } }],
    ['rules[0].effect.delayMs', { from: A, to: B, effect: { kind: 'delay', delayMs: -1, jitterMs: 0 } }],
    ['rules[0].effect.jitterMs', { from: A, to: B, effect: { kind: 'delay', delayMs: 1, jitterMs: Number.NaN } }],
    ['rules[0].effect.kind', { from: A, to: B, effect: { kind: 'reorder' } as never }],
  ];
  it.each(bad)('%s is named in the error', (field, rule) => {
    let thrown: unknown;
    try {
      validateRules([rule]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).field).toBe(field);
  });
});

describe('names and numbers', () => {
  it('table names carry the owner pid and block index, and the leftover pattern reads them back', () => {
    expect(TABLE_NAME_PATTERN.exec(tableName(1234, 77))?.slice(1)).toEqual(['1234', '77']);
  });
  it('queue numbers of different blocks never collide', () => {
    const seen = new Set<number>();
    for (let k = 0; k <= 254; k++) for (let n = 0; n < 16; n++) seen.add(queueNumber(k, n));
    expect(seen.size).toBe(255 * 16);
    expect(Math.max(...seen)).toBeLessThan(65536);
  });
});
