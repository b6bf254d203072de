#!/usr/bin/env node
// The sources are TypeScript; tsx loads them without a build step, so `npx tokenbench` works
// right after `npm ci` (no install scripts needed).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2));
// Let pending teardown output flush, then leave with the command's code.
process.exitCode = code;
