/**
 * tokenbench as a library: start Redis topologies and break them, build the revocation schemes
 * on them, run a scenario, check a history, and read, compare and render results. Everything
 * else is internal and may change without notice.
 */

// Errors: switch on `code`, never on the message.
export { ERROR_EXIT_CODES, type ErrorCode, TokenbenchError } from './core/errors.ts';
// Checking: the checkers as pure folds over a history.
export { checkHistory, runCheckers } from './harness/checkers/index.ts';
export type { RunInfo } from './harness/history.ts';
export { readHistory } from './harness/history-file.ts';
// Running: a scenario under load and faults, to a result.
export { type RunScenarioOptions, runScenario } from './harness/run-scenario.ts';
export type { ProgressInfo, StageInfo } from './harness/runner.ts';
export type { Scenario, ScenarioInput } from './harness/scenario.ts';
export { type Comparison, compareResults, renderComparison, type Thresholds } from './reports/compare.ts';
export { renderHtml } from './reports/html.ts';
export { renderMarkdown } from './reports/markdown.ts';
export { mergeResults } from './reports/merge.ts';
export type { Checks, Op, OpFunction, OpType, Phase } from './result/checks.ts';
export { type HeadlineFigures, headlineFigures } from './result/figures.ts';
// Results: the one contract every report is rendered from.
export { loadResult, parseResult, type ResultFile, SCHEMA_VERSION, type StrategyRunResult } from './result/schema.ts';
// Strategies: the revocation schemes behind one interface.
export { type ConformanceOptions, type ConformanceReport, checkConformance } from './strategies/conformance.ts';
export { createStrategy, type StrategyContext } from './strategies/create.ts';
export type { StrategyOptionsInput } from './strategies/options.ts';
export {
  type Ack,
  type Guarantee,
  type Issued,
  type IssuedTokens,
  REJECT_CODES,
  type Refreshed,
  type RejectCode,
  type Strategy,
  type StrategyFactory,
  type StrategyFactoryContext,
  type StrategyModule,
  type StrategyName,
  type Verdict,
} from './strategies/types.ts';
export { type ClientOptions, DEFAULT_CLIENT_OPTIONS } from './topologies/client-options.ts';
export type { EventLog } from './topologies/events.ts';
export type { FaultAction, FaultSpec, FaultTarget, InjectedFault } from './topologies/faults.ts';
export type { TopologyOptionsInput } from './topologies/options.ts';
// Topologies: Redis on loopback (or containers, or a deployment you run), faults, ground truth.
export { createTopology, startTopology } from './topologies/topology.ts';
export type { Backend, NodeRole, RedisNode, StartedTopology, Topology, TopologyEvent, TopologyKind } from './topologies/types.ts';
