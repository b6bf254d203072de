import { outageEstimateMs, topologyFault } from './fault-kind.ts';

/**
 * A hung node (`target: primary` by default): it keeps its connections and answers nothing, so
 * clients wait instead of failing fast, and once resumed an old primary may take writes it then
 * throws away. Mechanism: SIGSTOP (process), `docker pause` (container), CLIENT PAUSE ALL for the
 * `for` window (external). With `for`, resumed after it.
 */
export const pause = topologyFault('pause', {
  healedBy: 'resume',
  unsupported: () => undefined,
  recoveryEstimateMs: outageEstimateMs,
});
