import { TokenbenchError } from '../core/errors.ts';

/** Wrong command line: printed as one line, exit code 2. */
export class UsageError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}
