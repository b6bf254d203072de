import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'scratch/**'],
    // Real Redis topologies: a sentinel failover alone takes seconds on 2 cores.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // One test file at a time: two files of real-Redis fault tests side by side on 2 cores starved
    // Sentinel enough to miss a failover deadline (twice in about seven full runs).
    maxWorkers: 1,
    // In CI also a JSON summary, from which .ci/run prints one plain closing line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-output/results.json' },
  },
});
