import { networkFault } from './network.ts';

/** A share of the packets between the sides dropped at random: retransmissions, slow links, flapping detectors. */
export const loss = networkFault('loss');
