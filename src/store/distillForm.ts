/**
 * The distillation form's method parameters: what the user typed (text), checked against the parameters the
 * method declares (sent by the Worker as plain data). The reasons are word for word those of the engine's
 * validateParams (src/engine/distill/method.ts), which the UI cannot import without pulling tfjs into the main
 * bundle; distillForm.test.ts checks the two agree for every parameter of every method. The Worker checks again
 * at Start.
 */
import type { DistillMethodInfo, MethodParam } from '../worker/protocol';

/** The label fractions the lab offers (the engine's LABELLED_FRACTIONS; the test checks they agree). */
export const LABELLED_CHOICES = [1, 0.2, 0] as const;

/** "100%", "20%", "0%". */
export const labelledText = (fraction: number): string => `${Math.round(fraction * 100)}%`;

/** Plain decimals (0.00001, 30,000), never exponent notation: the engine's style. */
export const formatBound = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 20 });

/** The range as the form shows it beside the control: "0.5 to 20", "whole number, 1 to 10". */
export const rangeText = (param: MethodParam): string =>
  `${param.integer ? 'whole number, ' : ''}${formatBound(param.min)} to ${formatBound(param.max)}`;

/** A typed value checked against its parameter: the number, or the engine's reason. */
export function checkParam(param: MethodParam, text: string): { value: number } | { error: string } {
  const bounds = `between ${formatBound(param.min)} and ${formatBound(param.max)}`;
  // As validateParams reads a string: Number() of anything but blank.
  const value = text.trim() !== '' ? Number(text) : Number.NaN;
  if (!Number.isFinite(value))
    return { error: `${param.name} must be a number ${bounds}; got ${JSON.stringify(text)}` };
  if (value < param.min || value > param.max)
    return { error: `${param.name} must be ${bounds}; got ${formatBound(value)}` };
  if (param.integer && !Number.isInteger(value))
    return { error: `${param.name} must be a whole number ${bounds}; got ${formatBound(value)}` };
  return { value };
}

export interface ParamsCheck {
  /** Every parameter's value, or null while any is refused. */
  readonly values: Readonly<Record<string, number>> | null;
  /** The reason per refused parameter, by name. */
  readonly errors: Readonly<Record<string, string>>;
}

/** The texts typed for a method's parameters; a parameter left untouched has its default. */
export type ParamTexts = Readonly<Record<string, string>>;

export const defaultText = (param: MethodParam): string => String(param.default);

export function checkParams(method: Pick<DistillMethodInfo, 'params'>, texts: ParamTexts): ParamsCheck {
  const values: Record<string, number> = {};
  const errors: Record<string, string> = {};
  for (const param of method.params) {
    const checked = checkParam(param, texts[param.name] ?? defaultText(param));
    if ('error' in checked) errors[param.name] = checked.error;
    else values[param.name] = checked.value;
  }
  return { values: Object.keys(errors).length ? null : values, errors };
}

/** "T 4, alpha 0.9": a run's parameters, short, for the runs table. */
export function paramsText(
  method: Pick<DistillMethodInfo, 'params'> | undefined,
  values: Readonly<Record<string, number>>,
): string {
  const names = Object.keys(values);
  if (!names.length) return '—';
  return names
    .map((name) => {
      const param = method?.params.find((p) => p.name === name);
      const changed = param && param.default !== values[name];
      return `${name} ${formatBound(values[name]!)}${changed ? '*' : ''}`;
    })
    .join(', ');
}
