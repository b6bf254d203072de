import type { Phase } from '../history.ts';

/**
 * The phases a run's ops are filed under, from the ground truth: `steady` until the first fault,
 * `fault` from each fault until the topology is ready again, then `recovery` until the next fault.
 * A readiness that arrives after a later fault began speaks for the earlier one and changes nothing.
 */
export class PhaseClock {
  #phase: Phase = 'steady';
  #faultGeneration = 0;
  readonly #onChange: (phase: Phase) => void;

  constructor(onChange: (phase: Phase) => void) {
    this.#onChange = onChange;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** A fault began; returns its generation, to hand back with readyAgain(). */
  faultBegan(): number {
    this.#set('fault');
    return ++this.#faultGeneration;
  }

  /** The topology was ready again after the fault of that generation. */
  readyAgain(generation: number): void {
    if (generation === this.#faultGeneration && this.#phase === 'fault') this.#set('recovery');
  }

  #set(phase: Phase): void {
    this.#phase = phase;
    this.#onChange(phase);
  }
}
