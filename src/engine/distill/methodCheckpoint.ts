/**
 * A distillation checkpoint's own files, beside the student's tfjs checkpoint (model.json, weights.bin,
 * optimizer.*, state.json): `method.json` (which method, its parameters, the label fraction, the teacher, and the
 * layout of the method's state arrays) and `method.bin` (those arrays, float32 little-endian, back to back).
 * The method's state (AKD's masks, CRD's memory bank) never goes into the student's model.json: the exported
 * student stays a plain model. Pure: no tfjs.
 */
import type { MethodState, ParamValues } from './method';

export const METHOD_FILES = { json: 'method.json', bin: 'method.bin' } as const;

export interface MethodArraySpec {
  readonly key: string;
  readonly shape: readonly number[];
  /** Offset in method.bin, in float32 values. */
  readonly offset: number;
  readonly length: number;
}

export interface MethodCheckpoint {
  readonly format: 'distillery-method';
  readonly version: 1;
  readonly method: string;
  readonly params: ParamValues;
  readonly labelledFraction: number;
  /** The teacher distilled from: its preset and where it was read (null for `ce`). */
  readonly teacher: { readonly preset: string; readonly source: string } | null;
  readonly arrays: readonly MethodArraySpec[];
}

export type MethodCheckpointInfo = Omit<MethodCheckpoint, 'format' | 'version' | 'arrays'>;

/** method.json and method.bin for a method's state. */
export function encodeMethodCheckpoint(
  info: MethodCheckpointInfo,
  state: MethodState,
): { json: string; bin: Uint8Array } {
  const keys = Object.keys(state).sort();
  const arrays: MethodArraySpec[] = [];
  let offset = 0;
  for (const key of keys) {
    const { shape, values } = state[key]!;
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size)
      throw new Error(`method state "${key}" has ${values.length} values for shape [${shape.join(', ')}]`);
    arrays.push({ key, shape: [...shape], offset, length: values.length });
    offset += values.length;
  }
  const all = new Float32Array(offset);
  for (const spec of arrays) all.set(state[spec.key]!.values, spec.offset);
  const checkpoint: MethodCheckpoint = { format: 'distillery-method', version: 1, ...info, arrays };
  return { json: JSON.stringify(checkpoint), bin: new Uint8Array(all.buffer) };
}

/** Reads method.json + method.bin back; throws naming the file on anything malformed. */
export function decodeMethodCheckpoint(
  json: Uint8Array,
  bin: Uint8Array,
): { checkpoint: MethodCheckpoint; state: MethodState } {
  let checkpoint: MethodCheckpoint;
  try {
    checkpoint = JSON.parse(new TextDecoder().decode(json)) as MethodCheckpoint;
  } catch (error) {
    throw new Error(`${METHOD_FILES.json}: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (checkpoint.format !== 'distillery-method')
    throw new Error(`${METHOD_FILES.json}: not a Distillery method checkpoint`);
  const needed = checkpoint.arrays.reduce((n, a) => Math.max(n, a.offset + a.length), 0);
  if (bin.byteLength !== needed * 4)
    throw new Error(
      `${METHOD_FILES.bin}: has ${bin.byteLength} bytes, ${METHOD_FILES.json} needs ${needed * 4}`,
    );
  // A copy: the bytes may sit at an offset that is not a multiple of 4.
  const values = new Float32Array(bin.slice().buffer);
  const state: MethodState = {};
  for (const { key, shape, offset, length } of checkpoint.arrays)
    state[key] = { shape: [...shape], values: values.slice(offset, offset + length) };
  return { checkpoint, state };
}
