import type { FaultAction } from '../../topologies/faults.ts';
import { delay } from './delay.ts';
import { failover } from './failover.ts';
import type { FaultKind } from './fault-kind.ts';
import { kill } from './kill.ts';
import { loss } from './loss.ts';
import { partition } from './partition.ts';
import { pause } from './pause.ts';
import { restart } from './restart.ts';
import { resume } from './resume.ts';

/** Every fault the nemesis can schedule, by the `action` a scenario names it with. */
export const FAULT_KINDS: Readonly<Record<FaultAction, FaultKind>> = { kill, pause, resume, restart, failover, partition, loss, delay };
