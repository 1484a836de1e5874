/**
 * `npm run cli -- <command> ...`: the lab's engine from a terminal (same code as the browser's Worker).
 * Exit status: 0 done, 1 bad input (the message names the problem), 2 wrong usage.
 */
import { parseArgs } from 'node:util';
import { DATA_USAGE, dataCommand } from './commands/data';
import { UsageError } from './usage';

const USAGE = `Distillery CLI\n\n${DATA_USAGE}`;

async function run(argv: string[]): Promise<string> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'data': {
      const { values } = parseArgs({
        args: rest,
        options: {
          set: { type: 'string' },
          file: { type: 'string', multiple: true },
          json: { type: 'boolean' },
        },
        strict: true,
      });
      return dataCommand(values);
    }
    case undefined:
    case 'help':
    case '--help':
      return USAGE;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

run(process.argv.slice(2)).then(
  (output) => console.log(output),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs reports unknown options with a TypeError carrying code ERR_PARSE_ARGS_*.
    const isUsage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(`error: ${message}`);
    if (isUsage) console.error(`\n${USAGE}`);
    process.exitCode = isUsage ? 2 : 1;
  },
);
