/**
 * The distillation form's method parameters: what the user typed (text), checked against the parameters the
 * method declares (sent by the Worker as plain data) by the engine's own validator (checkParam in
 * src/engine/config/methods.ts, tfjs-free: the same reasons the Worker gives at Start).
 */
import { formatBound } from '../engine/config/format';
import { checkParam, type DistillMethodInfo, LABELLED_FRACTIONS } from '../engine/config/methods';
import type { MethodParam } from '../worker/protocol';

export { rangeText } from '../engine/config/methods';

/** The label fractions the lab offers (the engine's own list). */
export const LABELLED_CHOICES = LABELLED_FRACTIONS;

/** "100%", "20%", "0%". */
export const labelledText = (fraction: number): string => `${Math.round(fraction * 100)}%`;

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
