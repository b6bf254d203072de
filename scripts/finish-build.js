// The build's second step, after tsc (`npm run build`): what tsc leaves undone for a package
// that runs on plain node and is type-checked by its users.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const dist = join(packageDir, 'dist');

// 1. rewriteRelativeImportExtensions rewrites './x.ts' to './x.js' in the JS only; the .d.ts keep
// './x.ts' (microsoft/TypeScript#61037). TypeScript accepts that, but a user's editor or tool
// that resolves the specifier finds no such file in the package.
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g;
for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.d.ts')) continue;
  const path = join(dist, file);
  const text = readFileSync(path, 'utf8');
  const rewritten = text.replace(RELATIVE_TS, '$1$2$3.js$2');
  if (rewritten !== text) writeFileSync(path, rewritten);
}

// 2. The commit, asked of git now, because an installed copy cannot ask at run time. The same
// function the sources use decides, from the freshly built module.
const { BUILD_INFO_FILE, checkoutCommit } = await import('../dist/core/version.js');
const info = `${JSON.stringify({ gitSha: checkoutCommit(packageDir) })}\n`;
let previous;
try {
  previous = readFileSync(BUILD_INFO_FILE, 'utf8');
} catch {}
if (info !== previous) writeFileSync(BUILD_INFO_FILE, info);

// 3. Files the library runs that are not TypeScript, beside the JS that finds them by import.meta.url.
for (const file of ['topologies/network/delay-holder.py', 'harness/timer-thread-worker.js']) copyFileSync(join(packageDir, file), join(dist, file));
