import { networkFault } from './network.ts';

/** Every packet between the sides held back (plus jitter): slow replication, WAIT timeouts, late detection. */
export const delay = networkFault('delay');
