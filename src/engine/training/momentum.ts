/**
 * The trainer's SGD with momentum: tfjs's MomentumOptimizer (PyTorch's SGD momentum with dampening 0: acc = m acc +
 * g, w -= lr acc), whose four kernels per variable run as one on wasm (backend/momentumUpdate.ts), with the same
 * bits, state and checkpoints; elsewhere, and with Nesterov, tfjs's own update.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedMomentumUpdate } from '../backend/momentumUpdate';

type Gradients = Parameters<tf.MomentumOptimizer['applyGradients']>[0];

/** What the update reads of tfjs's MomentumOptimizer, private there. */
interface MomentumFields {
  readonly learningRate: number;
  readonly momentum: number;
  readonly useNesterov: boolean;
  accumulations: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

class LabMomentumOptimizer extends tf.MomentumOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const own = this as unknown as MomentumFields;
    if (own.useNesterov || tf.getBackend() !== 'wasm') {
      super.applyGradients(variableGradients);
      return;
    }
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    // As tfjs's applyGradients: slots by position, made on first use; m and c are the float32 scalars it keeps.
    const attrs = { m: Math.fround(own.momentum), c: Math.fround(-own.learningRate) };
    list.forEach(({ name, tensor: gradient }, i) => {
      const value = tf.engine().registeredVariables[name]!;
      own.accumulations[i] ??= {
        originalName: `${name}/momentum`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      const accumulation = own.accumulations[i].variable;
      if (gradient == null) return;
      tf.tidy(() => {
        const fused = fusedMomentumUpdate(value, accumulation, gradient, attrs);
        const newAccumulation = fused?.[0] ?? tf.add(tf.mul(own.momentum, accumulation), gradient);
        const newValue = fused?.[1] ?? tf.add(tf.mul(attrs.c, newAccumulation), value);
        accumulation.assign(newAccumulation);
        value.assign(newValue);
      });
    });
    this.incrementIterations();
  }
}

/**
 * SGD with momentum as the lab trains with it. Also frees the learning-rate scalar `c` on dispose: tfjs 4.22's
 * MomentumOptimizer.dispose frees its own scalar and slots but not that of SGDOptimizer it extends (one tensor
 * leaked per run; the sweep starts many).
 */
export function momentumOptimizer(learningRate: number, momentum: number): tf.MomentumOptimizer {
  const optimizer = new LabMomentumOptimizer(learningRate, momentum);
  const disposeOwn = optimizer.dispose.bind(optimizer);
  optimizer.dispose = () => {
    disposeOwn();
    const { c } = optimizer as unknown as { c?: tf.Tensor };
    if (c && !c.isDisposed) c.dispose();
  };
  return optimizer;
}
