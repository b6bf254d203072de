export * from './topologies/index.ts';
export * from './strategies/index.ts';
