import type { InjectedFault } from '../../topologies/faults.ts';
import type { StartedTopology } from '../../topologies/types.ts';
import type { FaultRecord, Phase } from '../history.ts';
import type { Scenario } from '../scenario.ts';
import { FAULT_KINDS } from './kinds.ts';
import { PhaseClock } from './phases.ts';

type FaultEntry = Scenario['faults'][number];

/**
 * Faults as data, applied to a started topology on schedule: each fault at its time, its heal
 * after its `for`, the phases that follow from them, and what happened, as FaultRecords in run ms.
 * The runner asks it to start, to stop when the load ends, and to heal everything before the
 * final reconciliation; it knows no fault kind by name.
 */
export class Nemesis {
  readonly records: FaultRecord[] = [];
  readonly #topology: StartedTopology;
  readonly #now: () => number;
  readonly #settleMs: number;
  readonly #phases: PhaseClock;
  readonly #timers: NodeJS.Timeout[] = [];
  /** Client group names in the order their load generators got addresses: `clients:<name>` is `client-<index>` to the topology. */
  readonly #clientGroups: readonly string[];

  constructor(topology: StartedTopology, options: { now: () => number; settleMs: number; onPhase: (phase: Phase) => void; clientGroups?: readonly string[] }) {
    this.#topology = topology;
    this.#clientGroups = options.clientGroups ?? [];
    this.#now = options.now;
    this.#settleMs = options.settleMs;
    this.#phases = new PhaseClock(options.onPhase);
  }

  get phase(): Phase {
    return this.#phases.phase;
  }

  /** Schedules every fault `delayMs` from now plus its `at` (run ms count from the end of the warm-up). */
  start(faults: readonly FaultEntry[], delayMs: number): void {
    for (const fault of faults) this.#timers.push(setTimeout(() => void this.#apply(fault), delayMs + fault.at));
  }

  /** Cancels faults and heals not yet due: the load is over. heal() undoes what is still in effect. */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
  }

  /** Undoes every fault still in effect and waits for the topology; a failure is recorded, not thrown. */
  async heal(): Promise<void> {
    try {
      await this.#topology.heal();
      await this.#topology.waitUntilReady(this.#settleMs);
    } catch (error) {
      this.records.push({ action: 'settle', target: 'topology', atMs: this.#now(), error: (error as Error).message });
    }
  }

  async #apply(fault: FaultEntry): Promise<void> {
    const kind = FAULT_KINDS[fault.action];
    const record: FaultRecord = { action: fault.action, target: fault.target ?? 'default', atMs: this.#now() };
    this.records.push(record);
    const generation = this.#phases.faultBegan();
    try {
      const injected = await kind.apply(this.#topology, {
        action: fault.action,
        ...(fault.target && { target: this.#toTopology(fault.target) }),
        ...(fault.for !== undefined && { forMs: fault.for }),
        ...(fault.from !== undefined && { from: this.#toTopology(fault.from) }),
        ...(fault.direction !== undefined && { direction: fault.direction }),
        ...(fault.loss !== undefined && { lossPercent: fault.loss }),
        ...(fault.delay !== undefined && { delayMs: fault.delay }),
        ...(fault.jitter !== undefined && { jitterMs: fault.jitter }),
      });
      record.node = injected.node;
      record.target = fault.target ?? injected.target;
      if (injected.sides) {
        record.sides = {
          isolated: injected.sides.isolated.map((id) => this.#fromTopology(id)),
          from: injected.sides.from.map((id) => this.#fromTopology(id)),
          direction: injected.sides.direction,
        };
      }
      if (injected.effect) record.effect = injected.effect;
      if (fault.for !== undefined && kind.heal) this.#healLinksAfter(fault.for, kind, injected, record);
      else if (fault.for !== undefined && kind.healedBy) this.#healAfter(fault.for, kind.healedBy, injected.node, record);
    } catch (error) {
      record.error = (error as Error).message;
    }
    this.#topology
      .waitUntilReady(this.#settleMs)
      .then(() => this.#phases.readyAgain(generation))
      .catch(() => {});
  }

  #toTopology(side: string): string {
    return side.replace(/clients:([A-Za-z0-9_-]+)/g, (_, name: string) => `client-${this.#clientGroups.indexOf(name)}`);
  }

  #fromTopology(id: string): string {
    const group = /^client-(\d+)$/.exec(id);
    return group ? `clients:${this.#clientGroups[Number(group[1])] ?? group[1]}` : id;
  }

  #healLinksAfter(forMs: number, kind: (typeof FAULT_KINDS)[keyof typeof FAULT_KINDS], injected: InjectedFault, record: FaultRecord): void {
    this.#timers.push(
      setTimeout(() => {
        kind.heal!(this.#topology, injected)
          .then(() => {
            record.healedAtMs = this.#now();
          })
          .catch((error: Error) => {
            record.error = `heal failed: ${error.message}`;
          });
      }, forMs),
    );
  }

  #healAfter(forMs: number, action: NonNullable<(typeof FAULT_KINDS)[keyof typeof FAULT_KINDS]['healedBy']>, node: string, record: FaultRecord): void {
    this.#timers.push(
      setTimeout(() => {
        FAULT_KINDS[action]
          .apply(this.#topology, { action, target: node })
          .then(() => {
            record.healedAtMs = this.#now();
          })
          .catch((error: Error) => {
            record.error = `${action} failed: ${error.message}`;
          });
      }, forMs),
    );
  }
}
