import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type ErrorCode, TokenbenchError } from './errors.ts';

/**
 * Reads a YAML (or, by extension, JSON) file the user wrote. A file that cannot be read or parsed
 * is one error with `code`, naming the file and, for a syntax error, its first line.
 */
export function readConfigFile(path: string, code: ErrorCode, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TokenbenchError(code, `${path}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const json = extname(path) === '.json';
  try {
    return json ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new TokenbenchError(code, `${path}: not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
}
