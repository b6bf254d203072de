import type { ClientGroup, EventRecord, FaultRecord, StrategyRunResult } from './schema.ts';

/**
 * Network faults between nodes (partition, loss, delay), read from a run's ground truth: when each
 * was applied, healed, and when the node it isolated was demoted. One definition of these windows
 * for the checkers, the anomalies and the reports, so a count split by window means the same
 * everywhere.
 */
export const NETWORK_FAULT_ACTIONS = ['partition', 'loss', 'delay'] as const;

export function isNetworkFault(fault: Pick<FaultRecord, 'action'>): boolean {
  return (NETWORK_FAULT_ACTIONS as readonly string[]).includes(fault.action);
}

/** The windows a network fault defines, in run ms. */
export interface NetworkFaultWindow {
  fault: FaultRecord;
  atMs: number;
  /**
   * When it was healed: the record's healedAtMs, else the heal event (a fault still in effect when
   * the load ended is healed at settle), else null (never healed by the last event recorded).
   */
  healedAtMs: number | null;
  /** The first `primary -> replica` role change of the fault's node at or after atMs; null: none seen. */
  demotedAtMs: number | null;
  /**
   * End of the window from the heal to the demotion. Without a demotion it stays open to the end
   * of the record when another node was promoted meanwhile (the isolated node went on answering as
   * a stale primary), and is empty otherwise (nobody took over: the node is still the rightful primary).
   */
  afterHealUntilMs: number;
}

export type AckWindow = 'duringFault' | 'afterHealBeforeDemotion' | 'outside';

const isRoleChange = (e: EventRecord, node: string, detail: string) =>
  e.source === 'role' && e.type === 'role-change' && e.node === node && e.detail === detail;

export function networkFaultWindows(faults: readonly FaultRecord[], events: readonly EventRecord[]): NetworkFaultWindow[] {
  return faults
    .filter(isNetworkFault)
    .sort((a, b) => a.atMs - b.atMs)
    .map((fault) => {
      const node = fault.node;
      const healEvent = events.find((e) => e.source === 'fault' && e.type === `${fault.action}-healed` && e.node === node && e.atMs >= fault.atMs);
      const healedAtMs = fault.healedAtMs ?? healEvent?.atMs ?? null;
      const demotion = node === undefined ? undefined : events.find((e) => e.atMs >= fault.atMs && isRoleChange(e, node, 'primary -> replica'));
      const demotedAtMs = demotion?.atMs ?? null;
      const someoneElsePromoted = events.some(
        (e) => e.atMs >= fault.atMs && e.source === 'role' && e.type === 'role-change' && e.detail === 'replica -> primary' && e.node !== node,
      );
      const healed = healedAtMs ?? Infinity;
      const afterHealUntilMs = demotedAtMs !== null ? Math.max(healed, demotedAtMs) : someoneElsePromoted ? Infinity : healed;
      return { fault, atMs: fault.atMs, healedAtMs, demotedAtMs, afterHealUntilMs };
    });
}

/** Where an acknowledgement at ms falls: during any fault first, then after a heal before the demotion. */
export function ackWindowOf(ms: number, windows: readonly NetworkFaultWindow[]): AckWindow {
  if (windows.some((w) => ms >= w.atMs && ms < (w.healedAtMs ?? Infinity))) return 'duringFault';
  if (windows.some((w) => w.healedAtMs !== null && ms >= w.healedAtMs && ms < w.afterHealUntilMs)) return 'afterHealBeforeDemotion';
  return 'outside';
}

type Nodes = StrategyRunResult['topology']['nodes'];

/** The client group of the workers in none: they send from 127.0.0.1, outside every fault. */
export const DEFAULT_CLIENT_GROUP = 'default';

/** The client group an op's worker belongs to. */
export function clientGroupOf(groups: readonly ClientGroup[]): (worker: number) => string {
  const byWorker = new Map(groups.map((g) => [g.worker, g.name]));
  return (worker) => byWorker.get(worker) ?? DEFAULT_CLIENT_GROUP;
}

const ROLE_GROUPS = [
  ['sentinel', 'sentinels'],
  ['replica', 'replicas'],
  ['primary', 'primaries'],
] as const;

/**
 * The side of a network fault in words: a role named when every node of that role is on it
 * (`sentinels, replicas`), otherwise the node ids; client groups as `clients <name>`. The sentence
 * form reads `the sentinels and the replicas`.
 */
export function sideText(side: readonly string[], nodes: Nodes, exclude: readonly string[] = [], form: 'label' | 'sentence' = 'label'): string {
  const left = new Set(side);
  const parts: string[] = [];
  for (const [role, plural] of ROLE_GROUPS) {
    const all = nodes.filter((n) => n.role === role && !exclude.includes(n.id)).map((n) => n.id);
    if (all.length > 1 && all.every((id) => left.has(id))) {
      const others = nodes.some((n) => n.role === role && exclude.includes(n.id));
      parts.push(form === 'sentence' ? `the ${others ? 'other ' : ''}${plural}` : plural);
      for (const id of all) left.delete(id);
    }
  }
  const group = form === 'sentence' ? 'client group' : 'clients';
  for (const id of side) if (left.has(id)) parts.push(id.startsWith('clients:') ? `${group} ${id.slice('clients:'.length)}` : id);
  if (form === 'label' || parts.length < 2) return parts.join(', ');
  return `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

/** `partition redis-0 | sentinels, replicas`: the fault, its isolated side and the side it was cut from. */
export function networkFaultLabel(fault: FaultRecord, nodes: Nodes): string {
  const isolated = fault.sides ? sideText(fault.sides.isolated, nodes) : (fault.node ?? fault.target);
  const from = fault.sides ? ` | ${sideText(fault.sides.from, nodes, fault.sides.isolated)}` : '';
  const effect = fault.effect && fault.effect !== 'drop' ? ` (${fault.effect})` : '';
  return `${fault.action} ${isolated}${from}${effect}`;
}

/**
 * Where a client group stood in the first network fault that names it: `cut off with redis-0` (on
 * the isolated side), `on the side of sentinels, replicas` (the side it was cut from); undefined:
 * no fault names it.
 */
export function clientGroupSideText(group: string, faults: readonly FaultRecord[], nodes: Nodes): string | undefined {
  const id = `clients:${group}`;
  for (const fault of faults) {
    if (!fault.sides || !isNetworkFault(fault)) continue;
    const others = (side: readonly string[]) =>
      sideText(
        side.filter((member) => member !== id),
        nodes,
      );
    if (fault.sides.isolated.includes(id)) return `cut off with ${others(fault.sides.isolated) || 'nothing'}`;
    if (fault.sides.from.includes(id)) return `on the side of ${others(fault.sides.from) || 'nothing'}`;
  }
  return undefined;
}
