import { topologyFault } from './fault-kind.ts';

/** Resumes a paused node (`target: paused` by default, the one most recently paused). */
export const resume = topologyFault('resume', { unsupported: () => undefined });
