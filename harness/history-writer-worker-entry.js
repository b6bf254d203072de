// Worker threads do not inherit the TypeScript loader registered in the main thread.
import { register } from 'tsx/esm/api';

register();
await import('./history-writer-worker.ts');
