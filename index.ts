export * from './topologies/index.ts';
