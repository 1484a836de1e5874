/**
 * What the UI, the store and the CLI know of a distillation method without tfjs: its parameter declarations,
 * the one validator for their values (the engine's methods, the Worker, the form and the URL all use it), the
 * plain-data description the Worker sends (DistillMethodInfo), and the label fractions. The methods themselves
 * are in src/engine/distill/methods/, one per file (docs/design.md).
 */
import { formatBound } from './format';

/** One numeric parameter of a method, as the UI shows it and the CLI accepts it (`--param name=value`). */
export interface MethodParam {
  /** Identifier: `temperature`, or `kd.temperature` inside a combination. */
  readonly name: string;
  /** Short human label: "Temperature T". */
  readonly label: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. */
  readonly integer?: boolean;
  /** One line: what it does and where its default comes from. */
  readonly help: string;
}

/** Validated parameter values by name; every declared parameter is present. */
export type ParamValues = Readonly<Record<string, number>>;

/** A method as the Worker describes it to the UI: plain data, declared in the method's own file. */
export interface DistillMethodInfo {
  readonly id: string;
  readonly label: string;
  readonly summary: string;
  readonly defaultsFrom: string;
  readonly params: readonly MethodParam[];
  /** Its runs have anchors with learned masks, which the anchor gallery shows live. */
  readonly learnsAnchorMasks: boolean;
  /** False for a method that trains on the labels alone (the baseline): it can start without a teacher. */
  readonly needsTeacher: boolean;
  /** What its set-up does before the first step, when that takes a while ("choosing the anchors..."); null: nothing to say. */
  readonly setupNote: string | null;
}

/** The method every other is compared with: the student alone on the labels (src/engine/distill/methods/ce.ts). */
export const BASELINE_METHOD = 'ce';

/** The label-efficiency settings the lab offers: all labels, 20% of them, none (distillation only). */
export const LABELLED_FRACTIONS = [1, 0.2, 0] as const;

/** A bad method parameter; the message names it, its range, and the valid names. */
export class MethodParamError extends Error {
  override readonly name = 'MethodParamError';
}

const describeValue = (value: unknown) =>
  typeof value === 'string'
    ? JSON.stringify(value)
    : typeof value === 'number'
      ? formatBound(value)
      : String(value);

/** The range as a form shows it beside the control: "0.5 to 20", "whole number, 1 to 10". */
export const rangeText = (param: MethodParam): string =>
  `${param.integer ? 'whole number, ' : ''}${formatBound(param.min)} to ${formatBound(param.max)}`;

/**
 * One parameter's value checked against its declaration: a number, or a numeric string (the CLI's
 * `--param temperature=4`, a form's text, a URL's value; blank is not a number). The value, or the reason, e.g.
 * `temperature must be between 0.5 and 20; got 0`.
 */
export function checkParam(param: MethodParam, given: unknown): { value: number } | { error: string } {
  const bounds = `between ${formatBound(param.min)} and ${formatBound(param.max)}`;
  const value =
    typeof given === 'number'
      ? given
      : typeof given === 'string' && given.trim() !== ''
        ? Number(given)
        : Number.NaN;
  if (!Number.isFinite(value))
    return { error: `${param.name} must be a number ${bounds}; got ${describeValue(given)}` };
  if (value < param.min || value > param.max)
    return { error: `${param.name} must be ${bounds}; got ${describeValue(value)}` };
  if (param.integer && !Number.isInteger(value))
    return { error: `${param.name} must be a whole number ${bounds}; got ${describeValue(value)}` };
  return { value };
}

/** Why `name` is not one of the method's parameters. */
export const unknownParamText = (method: Pick<DistillMethodInfo, 'id' | 'params'>, name: string): string =>
  method.params.length
    ? `unknown parameter "${name}": valid are ${method.params.map((p) => p.name).join(', ')}`
    : `unknown parameter "${name}": ${method.id} takes no parameters`;

/** Every declared parameter at its default. */
export const defaultParams = (method: Pick<DistillMethodInfo, 'params'>): ParamValues =>
  Object.fromEntries(method.params.map((p) => [p.name, p.default]));

/**
 * Typed values for every declared parameter: `raw` values may be numbers or numeric strings; left-out
 * parameters take their defaults. Throws MethodParamError listing every problem, e.g.
 * `temperature must be between 0.5 and 20; got 0` or `unknown parameter "tau": valid are temperature, alpha`.
 */
export function validateParams(
  method: Pick<DistillMethodInfo, 'id' | 'params'>,
  raw: Readonly<Record<string, unknown>> = {},
): ParamValues {
  const known = new Set(method.params.map((p) => p.name));
  const problems = Object.keys(raw)
    .filter((name) => !known.has(name))
    .map((name) => unknownParamText(method, name));
  const values: Record<string, number> = {};
  for (const param of method.params) {
    const checked =
      raw[param.name] === undefined ? { value: param.default } : checkParam(param, raw[param.name]);
    if ('error' in checked) problems.push(checked.error);
    else values[param.name] = checked.value;
  }
  if (problems.length) throw new MethodParamError(problems.join('; '));
  return values;
}
