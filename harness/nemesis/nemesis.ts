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

  constructor(topology: StartedTopology, options: { now: () => number; settleMs: number; onPhase: (phase: Phase) => void }) {
    this.#topology = topology;
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
        ...(fault.target && { target: fault.target }),
        ...(fault.for !== undefined && { forMs: fault.for }),
      });
      record.node = injected.node;
      record.target = injected.target;
      if (fault.for !== undefined && kind.healedBy) this.#healAfter(fault.for, kind.healedBy, injected.node, record);
    } catch (error) {
      record.error = (error as Error).message;
    }
    this.#topology
      .waitUntilReady(this.#settleMs)
      .then(() => this.#phases.readyAgain(generation))
      .catch(() => {});
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
