import { outageEstimateMs } from './fault-kind.ts';
import { networkFault } from './network.ts';

/**
 * A target cut off from the other side (`from`, default everything else): every packet between
 * them dropped, both ways or one. An isolated primary keeps acknowledging the writes of clients that
 * still reach it while the other side promotes a replica: the split brain that loses them.
 */
export const partition = networkFault('partition', outageEstimateMs);
