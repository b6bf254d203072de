import { topologySuite } from './suite.ts';

topologySuite('process', (kind) => ({ kind, backend: 'process' }));
