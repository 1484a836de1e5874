/**
 * A method's own variables and run state: fresh variable names, seeded initialisers, and the arrays a
 * checkpoint keeps (method.json + method.bin, distill/methodCheckpoint.ts) so a resumed run goes on exactly
 * (docs/design.md §9).
 */
import * as tf from '@tensorflow/tfjs';
import type { MethodState } from '../method';

/** A variable name not yet registered with the engine: `base`, else `base_1`, `base_2`... */
export function freshVariableName(base: string): string {
  const taken = tf.engine().registeredVariables;
  if (!(base in taken)) return base;
  for (let i = 1; ; i++) if (!(`${base}_${i}` in taken)) return `${base}_${i}`;
}

/**
 * A trainable (or not) variable with a fresh name under `distill/`. Takes ownership of `initial`: the variable
 * shares its data, and the tensor itself would otherwise stay counted (and alive) after the run is disposed.
 */
export function methodVariable(initial: tf.Tensor, name: string, trainable = true): tf.Variable {
  const variable = tf.variable(initial, trainable, freshVariableName(`distill/${name}`));
  initial.dispose();
  return variable;
}

/** A seed for a tfjs initialiser, from the run's seed and a per-use salt (stable across runs). */
export const initSeed = (seed: number, salt: number): number =>
  (seed * 1_000_003 + salt * 7919) % 2_147_483_647;

/** The state of some variables under stable keys. */
export async function variablesState(variables: Readonly<Record<string, tf.Variable>>): Promise<MethodState> {
  const entries = Object.entries(variables);
  const values = await Promise.all(entries.map(([, v]) => v.data() as Promise<Float32Array>));
  return Object.fromEntries(entries.map(([key, v], i) => [key, { shape: v.shape, values: values[i]! }]));
}

/** Assigns saved arrays back to variables; throws naming a missing or mis-shaped key. */
export function restoreVariables(variables: Readonly<Record<string, tf.Variable>>, state: MethodState): void {
  for (const [key, variable] of Object.entries(variables)) {
    const saved = state[key];
    if (!saved) throw new Error(`the saved method state has no "${key}"`);
    if (!tf.util.arraysEqual([...saved.shape], variable.shape))
      throw new Error(
        `the saved "${key}" has shape [${saved.shape.join(', ')}], this run needs [${variable.shape.join(', ')}]`,
      );
    tf.tidy(() => variable.assign(tf.tensor(saved.values, variable.shape, 'float32')));
  }
}

/** A counter (step count) as a state array. */
export const counterState = (value: number) => ({ shape: [], values: Float32Array.of(value) });

export function readCounter(state: MethodState, key: string): number {
  const saved = state[key];
  if (!saved || saved.values.length !== 1) throw new Error(`the saved method state has no "${key}"`);
  return saved.values[0]!;
}
