/**
 * `npm run cli -- <command> ...`: the lab's engine from a terminal (same code as the browser's Worker).
 * Exit status: 0 done, 1 bad input (the message names the problem), 2 wrong usage.
 */
import { parseArgs } from 'node:util';
import { ANCHORS_USAGE, anchorsCommand } from './commands/anchors';
import { DATA_USAGE, dataCommand } from './commands/data';
import { DISTILL_USAGE, distillCommand } from './commands/distill';
import { EVAL_USAGE, evalCommand } from './commands/evaluate';
import { OOD_USAGE, oodCommand } from './commands/ood';
import { REPORT_OPTIONS, REPORT_USAGE, reportCommand } from './commands/report';
import { REPRODUCE_OPTIONS, REPRODUCE_USAGE, reproduceCommand } from './commands/reproduce';
import { SCHEME_USAGE, schemeCommand } from './commands/scheme';
import { SWEEP_OPTIONS, SWEEP_USAGE, sweepCommand } from './commands/sweep';
import { TRAIN_USAGE, trainCommand } from './commands/train';
import { TRAINING_OPTIONS } from './trainingOptions';
import { UsageError } from './usage';

const USAGE = `Distillery CLI\n\n${DATA_USAGE}\n\n${TRAIN_USAGE}\n\n${DISTILL_USAGE}\n\n${EVAL_USAGE}\n\n${OOD_USAGE}\n\n${ANCHORS_USAGE}\n\n${REPRODUCE_USAGE}\n\n${SWEEP_USAGE}\n\n${REPORT_USAGE}\n\n${SCHEME_USAGE}`;

/**
 * parseArgs refuses `--lr -1` as ambiguous (the value starts with a dash). A negative number right after a
 * `--option` is that option's value, so it is joined as `--lr=-1` and the settings' own check names the range.
 */
const joinNegativeNumbers = (args: readonly string[]): string[] =>
  args.reduce<string[]>((out, arg) => {
    const previous = out[out.length - 1];
    if (/^-\.?\d/.test(arg) && previous?.startsWith('--') && !previous.includes('=')) {
      out[out.length - 1] = `${previous}=${arg}`;
    } else {
      out.push(arg);
    }
    return out;
  }, []);

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
    case 'train': {
      const { values } = parseArgs({
        args: joinNegativeNumbers(rest),
        options: {
          ...TRAINING_OPTIONS,
          role: { type: 'string' },
          model: { type: 'string' },
          resume: { type: 'string' },
          'limit-steps': { type: 'string' },
        },
        strict: true,
      });
      process.exitCode = await trainCommand(values);
      return '';
    }
    case 'distill': {
      const { values } = parseArgs({
        args: joinNegativeNumbers(rest),
        options: {
          ...TRAINING_OPTIONS,
          method: { type: 'string' },
          param: { type: 'string', multiple: true },
          teacher: { type: 'string' },
          student: { type: 'string' },
          labelled: { type: 'string' },
          resume: { type: 'string' },
          'limit-steps': { type: 'string' },
        },
        strict: true,
      });
      process.exitCode = await distillCommand(values);
      return '';
    }
    case 'scheme': {
      const { values } = parseArgs({
        args: joinNegativeNumbers(rest),
        options: {
          ...TRAINING_OPTIONS,
          kind: { type: 'string' },
          models: { type: 'string' },
          generations: { type: 'string' },
          teacher: { type: 'string' },
          param: { type: 'string', multiple: true },
          ensemble: { type: 'boolean' },
          resume: { type: 'string' },
          'limit-steps': { type: 'string' },
        },
        strict: true,
      });
      process.exitCode = await schemeCommand(values);
      return '';
    }
    case 'eval': {
      const { values } = parseArgs({
        args: rest,
        options: { checkpoint: { type: 'string' }, set: { type: 'string' }, backend: { type: 'string' } },
        strict: true,
      });
      return evalCommand(values);
    }
    case 'ood': {
      const { values } = parseArgs({
        args: rest,
        options: {
          checkpoint: { type: 'string' },
          teacher: { type: 'string' },
          ood: { type: 'string', multiple: true },
          set: { type: 'string' },
          scores: { type: 'string' },
          json: { type: 'boolean' },
          backend: { type: 'string' },
          'anchors-cache': { type: 'string' },
        },
        strict: true,
      });
      return oodCommand(values);
    }
    case 'anchors': {
      const { values } = parseArgs({
        args: rest,
        options: {
          teacher: { type: 'string' },
          run: { type: 'string' },
          'per-class': { type: 'string' },
          set: { type: 'string' },
          png: { type: 'string' },
          json: { type: 'boolean' },
          store: { type: 'boolean' },
          backend: { type: 'string' },
        },
        strict: true,
      });
      return anchorsCommand(values);
    }
    case 'reproduce': {
      const { values } = parseArgs({ args: rest, options: REPRODUCE_OPTIONS, strict: true });
      process.exitCode = await reproduceCommand(values, rest);
      return '';
    }
    case 'sweep': {
      const { values } = parseArgs({ args: rest, options: SWEEP_OPTIONS, strict: true });
      process.exitCode = await sweepCommand(values, rest);
      return '';
    }
    case 'report': {
      const { values } = parseArgs({ args: rest, options: REPORT_OPTIONS, strict: true });
      return reportCommand(values);
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
  (output) => {
    if (output) console.log(output);
  },
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
