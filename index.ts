/**
 * tokenbench as a library: start Redis topologies and break them, build the revocation schemes
 * on them, run a scenario, check a history, and read, compare and render results. Everything
 * else is internal and may change without notice.
 */

// Topologies: Redis on loopback (or containers, or a deployment you run), faults, ground truth.
export { createTopology, startTopology } from './topologies/topology.ts';
export type { Backend, NodeRole, RedisNode, StartedTopology, Topology, TopologyEvent, TopologyKind } from './topologies/types.ts';
export type { TopologyOptionsInput } from './topologies/options.ts';
export { DEFAULT_CLIENT_OPTIONS, type ClientOptions } from './topologies/client-options.ts';
export type { FaultAction, FaultSpec, FaultTarget, InjectedFault } from './topologies/faults.ts';
export type { EventLog } from './topologies/events.ts';

// Strategies: the revocation schemes behind one interface.
export { createStrategy, type StrategyContext } from './strategies/create.ts';
export type { StrategyOptionsInput } from './strategies/options.ts';
export { REJECT_CODES, type Ack, type Guarantee, type Issued, type IssuedTokens, type Refreshed, type RejectCode, type Strategy, type StrategyName, type Verdict } from './strategies/types.ts';

// Running: a scenario under load and faults, to a result.
export { runScenario, type RunScenarioOptions } from './harness/run-scenario.ts';
export type { ProgressInfo, StageInfo } from './harness/runner.ts';
export type { Scenario, ScenarioInput } from './harness/scenario.ts';

// Checking: the checkers as pure folds over a history.
export { checkHistory, runCheckers } from './harness/checkers/index.ts';
export { readHistory } from './harness/history-file.ts';
export type { RunInfo } from './harness/history.ts';
export type { Checks, Op, OpFunction, OpType, Phase } from './result/checks.ts';

// Results: the one contract every report is rendered from.
export { loadResult, parseResult, SCHEMA_VERSION, type ResultFile, type StrategyRunResult } from './result/schema.ts';
export { headlineFigures, type HeadlineFigures } from './result/figures.ts';
export { compareResults, renderComparison, type Comparison, type Thresholds } from './reports/compare.ts';
export { mergeResults } from './reports/merge.ts';
export { renderMarkdown } from './reports/markdown.ts';
export { renderHtml } from './reports/html.ts';

// Errors: switch on `code`, never on the message.
export { ERROR_EXIT_CODES, TokenbenchError, type ErrorCode } from './core/errors.ts';
