/**
 * One run as the run history keeps it (docs/design.md, section 8, "Run history"): everything needed to tell runs apart and
 * compare them after the visit that made them, as plain data that IndexedDB stores and JSON carries unchanged.
 * Declared once as a zod schema: what is read back from storage and what a user imports are checked by it, and
 * a refusal names the field at fault. Non-finite numbers (a loss that blew up) are kept as null, since JSON has
 * no NaN: what is stored and what is exported are the same record.
 */
import { z } from 'zod';
import { trainConfigSchema } from '../../engine/config/training';

/** What a history file says it is; a JSON file without these is not one of ours. */
export const RUN_FORMAT = 'distillery-run';
export const RUN_FORMAT_VERSION = 1;

const count = (min: number) => z.number().int().min(min);
const fraction = z.number().min(0).max(1);
/** A number that can have been non-finite when measured (stored as null). */
const measured = z.number().nullable();

const stepSchema = z.object({
  epoch: count(1),
  step: count(1),
  stepsPerEpoch: count(1),
  learningRate: z.number(),
  /** The loss by named term (ce, soft, l1, ..., total) after this step. */
  terms: z.record(z.string(), measured),
});

const epochSchema = z.object({
  epoch: count(1),
  trainLoss: measured,
  trainAccuracy: fraction,
  testAccuracy: fraction,
  seconds: z.number().nonnegative(),
  imagesPerSecond: z.number().nonnegative(),
});

const teacherSchema = z.object({
  source: z.enum(['shipped', 'imported', 'trained']),
  preset: z.string(),
  name: z.string(),
  /** Its test accuracy where known when the run started (on `datasetId`). */
  testAccuracy: fraction.nullable(),
  datasetId: z.string().nullable(),
});

/** A trust-panel measurement of this run's student: its ECE and the AUROC of each OoD score on each set. */
export const oodMeasurementSchema = z.object({
  measuredAt: z.iso.datetime(),
  datasetName: z.string(),
  accuracy: fraction,
  ece: fraction,
  aurocs: z.array(z.object({ set: z.string(), score: z.string(), auroc: fraction })),
});

export const RUN_OUTCOMES = ['done', 'stopped', 'non-finite', 'failed'] as const;

export const historyRunSchema = z
  .object({
    format: z.literal(RUN_FORMAT, { error: `format must be "${RUN_FORMAT}"` }),
    version: z.literal(RUN_FORMAT_VERSION, { error: `version must be ${RUN_FORMAT_VERSION}` }),
    id: z.string().min(1).max(100),
    name: z.string().min(1).max(200),
    createdAt: z.iso.datetime(),
    /** Which panel ran it: a distillation, or a plain Teacher/Student panel training (method `ce`). */
    panel: z.enum(['distillation', 'teacher', 'student']),
    method: z.string().min(1),
    methodLabel: z.string(),
    params: z.record(z.string(), z.number().refine(Number.isFinite, 'must be a finite number')),
    labelledFraction: z.number().gt(0).max(1),
    config: trainConfigSchema,
    teacher: teacherSchema.nullable(),
    dataset: z.object({ id: z.string().nullable(), name: z.string() }),
    backend: z.string().nullable(),
    outcome: z.enum(RUN_OUTCOMES),
    /** Why it ended early (the non-finite loss, the engine's failure), if it did. */
    message: z.string().nullable(),
    /** Mean ms per training step, warm-up excluded; null where the run did not time its steps. */
    msPerStep: z.number().positive().nullable(),
    steps: z.array(stepSchema),
    epochs: z.array(epochSchema),
    ood: oodMeasurementSchema.nullable(),
  })
  .superRefine((run, ctx) => {
    if (run.epochs.length > run.config.epochs)
      ctx.addIssue({
        code: 'custom',
        path: ['epochs'],
        message: `${run.epochs.length} epochs logged, but the run was set to ${run.config.epochs}`,
      });
    run.epochs.forEach((log, i) => {
      if (log.epoch !== i + 1)
        ctx.addIssue({
          code: 'custom',
          path: ['epochs', i, 'epoch'],
          message: `epoch ${log.epoch} where epoch ${i + 1} belongs`,
        });
    });
  });

export type HistoryRun = z.infer<typeof historyRunSchema>;
export type HistoryStep = HistoryRun['steps'][number];
export type HistoryEpoch = HistoryRun['epochs'][number];
export type OodMeasurement = z.infer<typeof oodMeasurementSchema>;
export type RunOutcome = HistoryRun['outcome'];

/** The test top-1 after the last completed epoch; null before the first. */
export const finalAccuracy = (run: Pick<HistoryRun, 'epochs'>): number | null =>
  run.epochs[run.epochs.length - 1]?.testAccuracy ?? null;

/** "#3 kd" style default names read badly across visits: a run is named by what it is and when it ran. */
export const defaultRunName = (
  run: Pick<HistoryRun, 'method' | 'config' | 'panel'>,
  createdAt: Date,
): string => {
  const when = createdAt.toISOString().slice(0, 16).replace('T', ' ');
  const what = run.panel === 'distillation' ? run.method : `${run.panel} training`;
  return `${what}, ${run.config.model}, seed ${run.config.seed} (${when} UTC)`;
};

/**
 * Why `value` is not a history run, field by field ("config.learningRate: learning rate must be between..."),
 * or the run itself.
 */
export function checkRun(
  value: unknown,
): { run: HistoryRun; error?: never } | { run?: never; error: string } {
  const parsed = historyRunSchema.safeParse(value);
  if (parsed.success) return { run: parsed.data };
  return { error: issuesText(parsed.error.issues) };
}

/** At most three issues, each with where it is: enough to find the problem, short enough for one banner line. */
export function issuesText(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const where = issue.path.map((p, i) =>
      typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`,
    );
    return where.length ? `${where.join('')}: ${issue.message}` : issue.message;
  });
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}
