import type { TrainConfig } from './hyperparams';

/**
 * Learning rate at a step (0-based) of a run of `totalSteps`. Conventions:
 * - cosine: lr * (1 + cos(pi * t)) / 2, t = step / totalSteps (no warm-up);
 * - step: x0.1 at 50% and 75% of the run (the 150/225-of-300 CIFAR recipe, scaled);
 * - onecycle: linear warm-up from lr/25 to lr over the first 30%, then cosine down to lr/1e4 (PyTorch OneCycleLR
 *   defaults);
 * - constant.
 */
export function learningRateAt(
  config: Pick<TrainConfig, 'learningRate' | 'schedule'>,
  step: number,
  totalSteps: number,
): number {
  const lr = config.learningRate;
  const t = Math.min(1, Math.max(0, step / Math.max(1, totalSteps)));
  switch (config.schedule) {
    case 'constant':
      return lr;
    case 'cosine':
      return (lr * (1 + Math.cos(Math.PI * t))) / 2;
    case 'step':
      return t < 0.5 ? lr : t < 0.75 ? lr * 0.1 : lr * 0.01;
    case 'onecycle': {
      const warm = 0.3;
      const start = lr / 25;
      const end = start / 1e4;
      if (t < warm) return start + (lr - start) * (t / warm);
      const u = (t - warm) / (1 - warm);
      return end + ((lr - end) * (1 + Math.cos(Math.PI * u))) / 2;
    }
  }
}
