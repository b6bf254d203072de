import { it } from 'vitest';
import { containerBackendUnavailable } from './docker-available.ts';
import { topologySuite } from './suite.ts';

const { image, why } = await containerBackendUnavailable();
if (why) {
  console.warn(`SKIPPED: container backend tests: ${why}`);
  it.skip(`container backend (${why})`, () => {});
} else {
  topologySuite('container', (kind) => ({ kind, backend: 'container', image }));
}
