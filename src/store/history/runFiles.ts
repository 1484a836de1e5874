/**
 * The run history's files (pure, unit-tested): selected runs exported as JSON (every field, curves included; the
 * format import reads back) or as CSV (one row per run: settings and results, for a spreadsheet), and an
 * imported JSON file checked whole: a file with one bad run is refused entire, with the reason and where.
 */
import { z } from 'zod';
import { finalAccuracy, type HistoryRun, historyRunSchema, issuesText, RUN_FORMAT } from './runRecord';

/** A file of several runs, as "Export JSON" writes it. */
export const RUNS_FORMAT = 'distillery-runs';

const runsFileSchema = z.object({
  format: z.literal(RUNS_FORMAT),
  version: z.literal(1, { error: 'version must be 1' }),
  runs: z.array(historyRunSchema).min(1, { error: 'the file holds no runs' }),
});

export const runsJson = (runs: readonly HistoryRun[]): string =>
  `${JSON.stringify({ format: RUNS_FORMAT, version: 1, runs }, null, 2)}\n`;

/**
 * The runs of an imported file: a single run (`format: "distillery-run"`) or an export of several. Never a
 * part: any problem refuses the whole file, naming the problem.
 */
export function parseRunsFile(
  text: string,
): { runs: HistoryRun[]; error?: never } | { runs?: never; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `it is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const format =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as { format?: unknown }).format
      : undefined;
  const schema = format === RUNS_FORMAT ? runsFileSchema : format === RUN_FORMAT ? historyRunSchema : null;
  if (!schema)
    return {
      error: `it is not a Distillery run: "format" must be "${RUN_FORMAT}" or "${RUNS_FORMAT}"${
        format === undefined ? ', and the file has none' : `, not ${JSON.stringify(format)}`
      }`,
    };
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { error: issuesText(parsed.error.issues) };
  return { runs: 'runs' in parsed.data ? parsed.data.runs : [parsed.data] };
}

type Cell = string | number | boolean | null;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text cell that a spreadsheet
 * would run as a formula (=, +, -, @ first) gets a leading apostrophe, as OWASP advises for CSV exports.
 */
export function csvField(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell !== 'string') return String(cell);
  const text = /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const paramsText = (params: Readonly<Record<string, number>>) =>
  Object.entries(params)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');

const aurocText = (run: HistoryRun) =>
  run.ood?.aurocs.map((a) => `${a.set}/${a.score}=${a.auroc.toFixed(4)}`).join('; ') ?? null;

/** The CSV's columns: a header and how each run fills it. Accuracies and fractions as 0..1, as stored. */
const COLUMNS: readonly (readonly [string, (run: HistoryRun) => Cell])[] = [
  ['name', (r) => r.name],
  ['created_at', (r) => r.createdAt],
  ['panel', (r) => r.panel],
  ['method', (r) => r.method],
  ['params', (r) => paramsText(r.params)],
  ['student', (r) => r.config.model],
  ['epochs', (r) => r.config.epochs],
  ['batch_size', (r) => r.config.batchSize],
  ['optimizer', (r) => r.config.optimizer],
  ['learning_rate', (r) => r.config.learningRate],
  ['momentum', (r) => r.config.momentum],
  ['weight_decay', (r) => r.config.weightDecay],
  ['schedule', (r) => r.config.schedule],
  ['augment', (r) => r.config.augment],
  ['seed', (r) => r.config.seed],
  ['labelled_fraction', (r) => r.labelledFraction],
  ['teacher', (r) => (r.teacher ? `${r.teacher.preset} (${r.teacher.source}: ${r.teacher.name})` : null)],
  ['teacher_test_top1', (r) => r.teacher?.testAccuracy ?? null],
  ['dataset', (r) => r.dataset.name],
  ['backend', (r) => r.backend],
  ['outcome', (r) => r.outcome],
  ['epochs_completed', (r) => r.epochs.length],
  ['steps', (r) => r.steps.length],
  ['test_top1', (r) => finalAccuracy(r)],
  ['train_loss', (r) => r.epochs[r.epochs.length - 1]?.trainLoss ?? null],
  ['ms_per_step', (r) => r.msPerStep],
  ['ece', (r) => r.ood?.ece ?? null],
  ['ood_auroc', aurocText],
  ['id', (r) => r.id],
];

export const CSV_HEADER = COLUMNS.map(([name]) => name);

/** A header and one row per run, CRLF line ends (RFC 4180). */
export function runsCsv(runs: readonly HistoryRun[]): string {
  const lines = [
    CSV_HEADER.join(','),
    ...runs.map((run) => COLUMNS.map(([, cell]) => csvField(cell(run))).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
