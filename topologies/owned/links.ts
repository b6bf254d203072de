import type { LinkDirection } from '../faults.ts';
import type { LinkEffect, LinkRule } from '../network/nft.ts';

/** A member of one side of a network fault: a node or a client group, by id, with its address. */
export interface LinkEnd {
  id: string;
  address: string;
}

/**
 * The rules that cut (or slow, or thin) every link between the two sides, one direction per rule:
 * `outbound` hits packets from the isolated side, `inbound` packets to it. A member named on both
 * sides is taken off the other side: a node cannot be cut from itself.
 */
export function linkRules(isolated: readonly LinkEnd[], from: readonly LinkEnd[], direction: LinkDirection, effect: LinkEffect): LinkRule[] {
  const inside = new Set(isolated.map((e) => e.address));
  const outside = [...new Set(from.map((e) => e.address))].filter((a) => !inside.has(a));
  const rules: LinkRule[] = [];
  for (const a of inside) {
    for (const b of outside) {
      if (direction !== 'inbound') rules.push({ from: a, to: b, effect });
      if (direction !== 'outbound') rules.push({ from: b, to: a, effect });
    }
  }
  return rules;
}

/** `drop`, `loss 10%`, `delay 50 ms + up to 10 ms jitter`: the effect as the result and reports name it. */
export function describeEffect(effect: LinkEffect): string {
  switch (effect.kind) {
    case 'drop':
      return 'drop';
    case 'loss':
      return `loss ${effect.percent}%`;
    case 'delay':
      return effect.jitterMs > 0 ? `delay ${effect.delayMs} ms + up to ${effect.jitterMs} ms jitter` : `delay ${effect.delayMs} ms`;
  }
}
