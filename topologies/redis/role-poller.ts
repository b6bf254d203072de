import { type ObservedRole, parseRoleReply } from './replies.ts';

const ROLE_POLL_MS = 100;

/** A data node as the poller sees it: whether to ask it, and how. */
export interface PolledNode {
  readonly id: string;
  readonly state: string;
  call(command: 'ROLE'): Promise<unknown>;
}

/**
 * Each data node's own answer to ROLE every 100 ms: the ground truth of who claims what, for every
 * backend. A node is asked again only once its last answer is in, so a hung node is asked once.
 * A change is reported against the role last known, seeded with the role the topology configured
 * or discovered (no event for the first answer).
 */
export class RolePoller {
  readonly roles = new Map<string, ObservedRole>();
  readonly #nodes: () => Iterable<PolledNode>;
  readonly #onChange: (id: string, previous: ObservedRole, observed: ObservedRole) => void;
  readonly #polling = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(nodes: () => Iterable<PolledNode>, onChange: (id: string, previous: ObservedRole, observed: ObservedRole) => void) {
    this.#nodes = nodes;
    this.#onChange = onChange;
  }

  /** Starts polling; `now` also asks every node at once instead of after the first interval. */
  start({ now }: { now: boolean }): void {
    if (now) this.#pollAll();
    this.#timer = setInterval(() => this.#pollAll(), ROLE_POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #pollAll(): void {
    for (const node of this.#nodes()) if (node.state === 'running' && !this.#polling.has(node.id)) this.#poll(node);
  }

  #poll(node: PolledNode): void {
    this.#polling.add(node.id);
    node
      .call('ROLE')
      .then((reply) => {
        if (this.#timer === undefined) return;
        const observed = parseRoleReply(reply);
        const previous = this.roles.get(node.id);
        this.roles.set(node.id, observed);
        if (previous && previous.role !== observed.role) this.#onChange(node.id, previous, observed);
      })
      .catch(() => {})
      .finally(() => this.#polling.delete(node.id));
  }
}
