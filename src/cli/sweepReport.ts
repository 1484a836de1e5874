/** `sweep`'s record and table (issue 12): test top-1 per temperature x alpha, the CE baseline, the best cell. */
import { bestSweepCell } from '../engine/config/sweep';
import type { DistillOutcome } from './jobs/distillJob';
import { type GridCall, wallTimeText } from './jobs/grid';
import { points } from './jobs/summary';

export interface SweepCell {
  readonly temperature: number;
  readonly alpha: number;
  readonly training: DistillOutcome;
}

export interface SweepRecord {
  readonly command: string;
  /** The calls that trained or analysed these results (a resumed grid has several); wall time is their sum. */
  readonly calls: readonly GridCall[];
  readonly machine: string;
  readonly settings: {
    readonly temperatures: readonly number[];
    readonly alphas: readonly number[];
    readonly seed: number;
    readonly student: string;
    readonly epochs: number;
    readonly limitSteps: number | null;
    readonly teacher: string;
    readonly set: string;
  };
  /** The same student, seed and budget trained on labels alone (ce); null when it did not finish. */
  readonly baseline: DistillOutcome | null;
  readonly cells: readonly SweepCell[];
  /** The cell with the highest test top-1 (the first of equals in grid order). */
  readonly best: {
    readonly temperature: number;
    readonly alpha: number;
    readonly testAccuracy: number;
  } | null;
  readonly failed: readonly { readonly job: string; readonly why: string }[];
}

/** The UI's rule (src/engine/config/sweep.ts): the highest test top-1, the first of equals in grid order. */
export function bestCell(cells: readonly SweepCell[]): SweepRecord['best'] {
  const best = bestSweepCell(
    cells.map((c) => ({ temperature: c.temperature, alpha: c.alpha, testAccuracy: c.training.testAccuracy })),
  );
  return best && best.testAccuracy !== null
    ? { temperature: best.temperature, alpha: best.alpha, testAccuracy: best.testAccuracy }
    : null;
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

export function sweepMarkdown(record: SweepRecord): string {
  const { settings: st, baseline, best } = record;
  const base = baseline?.testAccuracy ?? null;
  const budget =
    st.limitSteps !== null ? `${st.limitSteps} steps` : `${st.epochs} epoch${st.epochs === 1 ? '' : 's'}`;
  const out = [
    `## KD temperature x alpha sweep: ${st.student}, ${budget}, seed ${st.seed}`,
    '',
    'Written by `npm run cli -- sweep` (src/cli/commands/sweep.ts): every cell is a real `npm run cli -- distill',
    '--method kd` run with that temperature T and weight alpha (alpha on the softened KL term, 1 - alpha on the',
    `labels), from the teacher in \`${st.teacher}\` on the ${st.set} set, at the student's default training`,
    'settings. Each cell: test top-1 and, in brackets, points against the CE baseline (the same student, seed and',
    'budget on labels alone). One seed: differences of a point or two are within what another seed moves.',
    '',
    '```sh',
    record.command,
    '```',
    '',
    `${wallTimeText(record.calls)}. Measured on ${record.machine}.`,
    '',
    `CE baseline: ${pct(base)}.${best ? ` Best cell: T = ${best.temperature}, alpha = ${best.alpha}, ${pct(best.testAccuracy)}${base === null ? '' : ` (${points(best.testAccuracy - base)} points against CE)`}.` : ''}`,
    '',
    `| T | ${st.alphas.map((a) => `alpha ${a}`).join(' | ')} |`,
    `|---:|${st.alphas.map(() => '---:').join('|')}|`,
  ];
  for (const t of st.temperatures) {
    const cells = st.alphas.map((a) => {
      const cell = record.cells.find((c) => c.temperature === t && c.alpha === a);
      const acc = cell?.training.testAccuracy ?? null;
      if (acc === null) return '—';
      const text = `${pct(acc)}${base === null ? '' : ` (${points(acc - base)})`}`;
      return best && best.temperature === t && best.alpha === a ? `**${text}**` : text;
    });
    out.push(`| ${t} | ${cells.join(' | ')} |`);
  }
  if (record.failed.length) {
    out.push('', 'Not finished:', '');
    for (const f of record.failed) out.push(`- ${f.job}: ${f.why}`);
  }
  return out.join('\n');
}
