export { createTopology, startTopology } from './topology.ts';
export { DEFAULT_TOPOLOGY_OPTIONS, TOPOLOGY_KINDS, normalizeTopologyOptions, type TopologyOptions, type TopologyOptionsInput } from './options.ts';
export { DEFAULT_CLIENT_OPTIONS, createClient, resolveClientOptions, type ClientOptions, type ClientTarget } from './client.ts';
export { FAULT_ACTIONS, DEFAULT_FAULT_TARGET, checkFaultSpec, type FaultAction, type FaultSpec, type FaultTarget, type InjectedFault } from './faults.ts';
export { EventLog } from './events.ts';
export { TokenbenchError, InvalidOptionError, RedisUnavailableError, WaitTimeoutError, ServerStartError, FaultError } from '../core/errors.ts';
export type { Backend, NodeRole, RedisNode, StartedTopology, Topology, TopologyEvent, TopologyKind } from './types.ts';
