// TEMPORARY stub: replaced by the `net` branch's implementation on merge.
import { execFileSync } from 'node:child_process';
import type { AddressBlock } from './address-block.ts';

export type LinkEffect = { kind: 'drop' } | { kind: 'loss'; percent: number } | { kind: 'delay'; delayMs: number; jitterMs: number };
export interface LinkRule {
  from: string;
  to: string;
  effect: LinkEffect;
}

export class NetworkFaults {
  readonly #table: string;
  readonly #faults = new Map<string, readonly LinkRule[]>();
  private constructor(table: string) {
    this.#table = table;
  }
  static async open(block: AddressBlock): Promise<NetworkFaults> {
    const f = new NetworkFaults(`tokenbench_${process.pid}_${block.index}`);
    f.#write();
    return f;
  }
  get active(): readonly string[] {
    return [...this.#faults.keys()];
  }
  async add(faultId: string, rules: readonly LinkRule[]): Promise<bigint> {
    this.#faults.set(faultId, rules);
    this.#write();
    return process.hrtime.bigint();
  }
  async remove(faultId: string): Promise<bigint> {
    this.#faults.delete(faultId);
    this.#write();
    return process.hrtime.bigint();
  }
  async close(): Promise<void> {
    try {
      execFileSync('nft', ['delete', 'table', 'inet', this.#table]);
    } catch {}
  }
  #write(): void {
    const rules = [...this.#faults.values()]
      .flat()
      .map((r) => `iif "lo" ip saddr ${r.from} ip daddr ${r.to} ${r.effect.kind === 'loss' ? `numgen random mod 100 < ${r.effect.percent} ` : ''}drop`);
    const text = `table inet ${this.#table} {}\ndelete table inet ${this.#table}\ntable inet ${this.#table} {\n chain input { type filter hook input priority 0; policy accept;\n${rules.join('\n')}\n }\n}\n`;
    execFileSync('nft', ['-f', '-'], { input: text });
  }
}

export async function networkFaultSupport(_needs: { delay?: boolean }): Promise<string | undefined> {
  return undefined;
}
