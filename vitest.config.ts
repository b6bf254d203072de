import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'scratch/**', 'dist/**'],
    // Real Redis topologies: a sentinel failover alone takes seconds on 2 cores.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // In CI also a JSON summary, from which .ci/run prints one plain closing line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-output/results.json' },
    projects: [
      {
        extends: true,
        test: {
          // The tests beside the code: no Redis, no Docker, no browser, no build; `npm run test:unit`.
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['test/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/setup/global-setup.ts'],
          // One test file at a time: two files of real-Redis fault tests side by side on 2 cores starved
          // Sentinel enough to miss a failover deadline (twice in about seven full runs).
          maxWorkers: 1,
        },
      },
    ],
  },
});
