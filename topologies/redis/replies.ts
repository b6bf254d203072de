/** Parsers of Redis replies, shared by the backends that own their servers and the external one. */

/** INFO text to a map: `role:master` -> { role: 'master' }. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** RESP2 flat [k, v, k, v] to an object (SENTINEL REPLICAS and friends). */
export function pairsToObject(pairs: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(pairs)) return out;
  for (let i = 0; i + 1 < pairs.length; i += 2) out[String(pairs[i])] = String(pairs[i + 1]);
  return out;
}

export interface ClusterNodeLine {
  id: string;
  /** As the node announces it; empty for a node without an address yet. */
  host: string;
  port: number;
  flags: string[];
  primaryId: string | undefined;
  linkState: string;
  slots: [number, number][];
}

/** One line of CLUSTER NODES: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>...` */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, address, flags, primary, , , , linkState, ...slots] = line.split(' ');
      // `ip:port@cport[,hostname]`; an IPv6 ip has colons of its own, so split at the last one.
      const hostPort = (address ?? '').split('@')[0]!;
      const colon = hostPort.lastIndexOf(':');
      return {
        id: id!,
        host: hostPort.slice(0, colon),
        port: Number(hostPort.slice(colon + 1)),
        flags: (flags ?? '').split(','),
        primaryId: primary && primary !== '-' ? primary : undefined,
        linkState: linkState ?? '',
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-').map(Number);
            return [a!, b ?? a!] as [number, number];
          }),
      };
    });
}

/** A node's own answer to ROLE: `master ...` or `slave <host> <port> ...`. */
export interface ObservedRole {
  role: 'primary' | 'replica';
  /** For a replica: the port of the primary it follows. */
  primaryPort?: number;
}

export function parseRoleReply(reply: unknown): ObservedRole {
  const [role, , port] = reply as [string, string?, number?];
  return role === 'master' ? { role: 'primary' } : { role: 'replica', ...(typeof port === 'number' && { primaryPort: port }) };
}
