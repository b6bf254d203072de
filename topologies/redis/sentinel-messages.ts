/** Sentinel's pub/sub messages and answers, read the same way for owned and external deployments. */

/** Sentinel messages worth a line in the ground truth (the rest is chatter). */
export const SENTINEL_EVENTS = [
  '+sdown',
  '-sdown',
  '+odown',
  '-odown',
  '+new-epoch',
  '+try-failover',
  '+elected-leader',
  '+selected-slave',
  '+promoted-slave',
  '+failover-end',
  '+failover-end-for-timeout',
  '+switch-master',
  '+convert-to-slave',
  '+fix-slave-config',
  '+slave-reconf-sent',
  '+slave-reconf-done',
  '+tilt',
  '-tilt',
  // How a failover can fail: without these an aborted failover is just a silence in the log.
  '-failover-abort-not-elected',
  '-failover-abort-no-good-slave',
  '-failover-abort-slave-timeout',
];

/** The port a sentinel message is about: `<name> <ip> <port> ...`, and for +switch-master the new primary's. */
export function portInSentinelMessage(channel: string, message: string): number {
  const parts = message.split(' ');
  return channel === '+switch-master' ? Number(parts[4]) : Number(parts[3]);
}

/** The primary port a strict majority of `sentinels` name, if there is one (unanswered: undefined). */
export function majorityPort(answers: readonly (number | undefined)[], sentinels: number): number | undefined {
  const tally = new Map<number, number>();
  for (const port of answers) if (port !== undefined) tally.set(port, (tally.get(port) ?? 0) + 1);
  const [best] = [...tally.entries()].sort((a, b) => b[1] - a[1]);
  return best && best[1] > sentinels / 2 ? best[0] : undefined;
}
