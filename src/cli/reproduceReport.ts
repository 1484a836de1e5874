/**
 * `reproduce`'s tables (docs/results.md, issue 10 section 4): per method, mean ± std over seeds of test top-1,
 * ECE, ms/step and its cost relative to KD, OoD AUROC of anchor uncertainty / entropy / MSP per OoD set, and
 * the paper's three comparisons stated from the numbers, whatever they are.
 */
import os from 'node:os';
import type { DistillOutcome, OodOutcome } from './jobs/distillJob';
import { type GridCall, wallTimeText } from './jobs/grid';
import { numStat, pctStat, points, type Stat, spreadWords, statOf } from './jobs/summary';

export interface ReproduceRun {
  readonly method: string;
  readonly seed: number;
  readonly training: DistillOutcome;
  readonly ood: OodOutcome;
}

/** The OoD scores the table shows, in its column order (the ood command's ids). */
export const TABLE_SCORES = [
  ['anchorU', 'anchor u'],
  ['entropy', 'entropy'],
  ['msp', 'MSP'],
] as const;

export interface MethodSummary {
  readonly method: string;
  readonly runs: number;
  readonly top1: Stat | null;
  readonly ece: Stat | null;
  readonly msPerStep: Stat | null;
  /** Mean ms/step over KD's mean ms/step; null without KD in the grid. */
  readonly costVsKd: number | null;
  /** By OoD set name, then score id. */
  readonly auroc: Record<string, Record<string, Stat | null>>;
  readonly params: Record<string, number>;
}

export interface ReproduceRecord {
  readonly command: string;
  /** The calls that trained or analysed these results (a resumed grid has several); wall time is their sum. */
  readonly calls: readonly GridCall[];
  readonly machine: string;
  readonly settings: {
    readonly methods: readonly string[];
    readonly seeds: readonly number[];
    readonly student: string;
    readonly epochs: number;
    readonly limitSteps: number | null;
    readonly teacher: string;
    readonly set: string;
    readonly ood: readonly string[];
  };
  readonly summary: readonly MethodSummary[];
  readonly runs: readonly ReproduceRun[];
  readonly failed: readonly { readonly method: string; readonly seed: number; readonly why: string }[];
}

export const machineText = () =>
  `${os.cpus()[0]?.model ?? 'an unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`;

export function summarise(methods: readonly string[], runs: readonly ReproduceRun[]): MethodSummary[] {
  const msOf = (method: string) =>
    statOf(runs.filter((r) => r.method === method).map((r) => r.training.msPerStep ?? Number.NaN));
  const kdMs = msOf('kd');
  return methods.map((method) => {
    const own = runs.filter((r) => r.method === method);
    const sets = [...new Set(own.flatMap((r) => Object.keys(r.ood.auroc)))];
    const msPerStep = msOf(method);
    return {
      method,
      runs: own.length,
      top1: statOf(own.map((r) => r.training.testAccuracy ?? Number.NaN)),
      ece: statOf(own.map((r) => r.ood.ece)),
      msPerStep,
      costVsKd: kdMs && msPerStep ? msPerStep.mean / kdMs.mean : null,
      auroc: Object.fromEntries(
        sets.map((set) => [
          set,
          Object.fromEntries(
            TABLE_SCORES.map(([score]) => [
              score,
              statOf(own.map((r) => r.ood.auroc[set]?.[score] ?? Number.NaN)),
            ]),
          ),
        ]),
      ),
      params: own[0]?.training.params ?? {},
    };
  });
}

/** The three comparisons of issue 10, each from the measured means (or why it cannot be stated). */
export function findings(summary: readonly MethodSummary[]): string[] {
  const of = (id: string) => summary.find((s) => s.method === id && s.top1 !== null);
  const compare = (
    label: string,
    a: MethodSummary | undefined,
    b: MethodSummary | undefined,
    names: string,
  ) => {
    if (!a || !b) return `${label}: not measured (the grid needs both ${names}).`;
    const diff = a.top1!.mean - b.top1!.mean;
    return `${label}: ${a.method} ${pctStat(a.top1)} against ${b.method} ${pctStat(b.top1)} test top-1, ${points(diff)} points for ${a.method}; ${spreadWords(a.top1!, b.top1!)}. ECE ${numStat(a.ece)} against ${numStat(b.ece)}.`;
  };
  const lines = [
    compare('(a) KD vs CE', of('kd'), of('ce'), 'kd and ce'),
    compare('(b) AKD vs PKT', of('akd'), of('pkt'), 'akd and pkt'),
  ];
  // Per OoD set: far (digits, noise) and near (other natural images) sets can disagree.
  const sets = [...new Set(summary.flatMap((s) => Object.keys(s.auroc)))];
  const perSet = sets.flatMap((set) => {
    const pairs = summary.flatMap((s) => {
      const u = s.auroc[set]?.anchorU;
      const h = s.auroc[set]?.entropy;
      return u && h ? [{ method: s.method, u: u.mean, h: h.mean }] : [];
    });
    if (!pairs.length) return [];
    const higher = pairs.filter((p) => p.u > p.h).length;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return [
      `on ${set} anchor u is higher for ${higher} of ${pairs.length} methods (mean over methods ${mean(pairs.map((p) => p.u)).toFixed(3)} against ${mean(pairs.map((p) => p.h)).toFixed(3)}: ${pairs.map((p) => `${p.method} ${p.u.toFixed(3)} vs ${p.h.toFixed(3)}`).join(', ')})`,
    ];
  });
  lines.push(
    perSet.length
      ? `(c) anchor uncertainty vs entropy (OoD AUROC): ${perSet.join('; ')}.`
      : '(c) anchor uncertainty vs entropy: not measured (no OoD results).',
  );
  return lines;
}

const ms = (s: Stat | null) => (s === null ? '—' : s.mean.toFixed(0));

export function reproduceMarkdown(record: ReproduceRecord): string {
  const { settings: st, summary } = record;
  const runSeconds = record.runs.reduce((t, r) => t + r.training.seconds + r.ood.seconds, 0);
  const budget =
    st.limitSteps !== null ? `${st.limitSteps} steps` : `${st.epochs} epoch${st.epochs === 1 ? '' : 's'}`;
  const out: string[] = [
    `## The paper's findings, reproduced: ${st.methods.join(', ')} on ${st.student}`,
    '',
    `Written by \`npm run cli -- reproduce\` (src/cli/commands/reproduce.ts): each method x seed is a real`,
    `\`npm run cli -- distill\` run (${budget}, seeds ${st.seeds.join(', ')}, the student's default training`,
    `settings, each method's default parameters) from the teacher in \`${st.teacher}\` on the ${st.set} set, then`,
    `\`npm run cli -- ood\` on its checkpoint (the trust panel's engine; anchors for u(x): an AKD student's own, the`,
    `teacher's for the others). Mean ± std over seeds (sample std). ms/step: mean wall time of a training step on`,
    `this machine while other work shared it, so only the ratios within this table mean much.`,
    '',
    '```sh',
    record.command,
    '```',
    '',
    `${wallTimeText(record.calls)}; the runs' own time (training and OoD analysis, each run's last call) sums to ${(runSeconds / 60).toFixed(1)} min. Measured on ${record.machine}.`,
    '',
    '| method | runs | test top-1 | ECE (15 bins) | ms/step | cost vs KD |',
    '|---|---:|---:|---:|---:|---:|',
    ...summary.map(
      (s) =>
        `| ${s.method} | ${s.runs} | ${pctStat(s.top1)} | ${numStat(s.ece)} | ${ms(s.msPerStep)} | ${s.costVsKd === null ? '—' : `${s.costVsKd.toFixed(2)}x`} |`,
    ),
    '',
    '### OoD detection (AUROC, OoD positive)',
    '',
    `| method | OoD set | ${TABLE_SCORES.map(([, label]) => label).join(' | ')} |`,
    `|---|---|${TABLE_SCORES.map(() => '---:').join('|')}|`,
  ];
  for (const s of summary)
    for (const [set, scores] of Object.entries(s.auroc))
      out.push(
        `| ${s.method} | ${set} | ${TABLE_SCORES.map(([score]) => numStat(scores[score] ?? null)).join(' | ')} |`,
      );
  out.push('', '### Findings, as measured', '', ...findings(summary).map((f) => `- ${f}`), '');
  out.push('### Every run', '', '| method | seed | test top-1 | ECE | ms/step | train s | OoD s |');
  out.push('|---|---:|---:|---:|---:|---:|---:|');
  const order = (r: ReproduceRun) => st.methods.indexOf(r.method) * 1e6 + r.seed;
  for (const r of [...record.runs].sort((a, b) => order(a) - order(b)))
    out.push(
      `| ${r.method} | ${r.seed} | ${pctStat(statOf([r.training.testAccuracy ?? Number.NaN]))} | ${r.ood.ece.toFixed(3)} | ${r.training.msPerStep?.toFixed(0) ?? '—'} | ${r.training.seconds.toFixed(0)} | ${r.ood.seconds.toFixed(0)} |`,
    );
  out.push('', 'Method parameters (the defaults):', '');
  for (const s of summary)
    out.push(
      `- ${s.method}: ${
        Object.entries(s.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || 'none'
      }`,
    );
  if (record.failed.length) {
    out.push('', 'Not finished (left out of the means):', '');
    for (const f of record.failed) out.push(`- ${f.method} seed ${f.seed}: ${f.why}`);
  }
  return out.join('\n');
}
