#!/usr/bin/env node
// Runs the built CLI on plain node: no TypeScript loader at run time. A clone has no dist/ until
// `npm run build` (npm start and npm pack build first).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('tokenbench: not built (dist/cli/main.js is missing): run `npm run build` in the tokenbench folder first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
// Let pending teardown output flush, then leave with the command's code.
process.exitCode = code;
