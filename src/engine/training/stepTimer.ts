/**
 * Milliseconds per training step, measured between the Trainer's step boundaries (its pause/stop checks), so a
 * step's time includes building the batch, the forward and backward passes, the update and, where losses are
 * read back every step (wasm, cpu), the wait for the device. Time spent elsewhere is left out: the host's turn
 * at a boundary (begin() is called after it), an epoch's evaluation (discard()), and the first `warmupSteps`
 * steps (XNNPACK operator set-up, shader compilation). Pure: the clock is passed in.
 */
export class StepTimer {
  private started: number | null = null;
  private toSkip: number;
  private count = 0;
  private totalMs = 0;
  private lastMs: number | null = null;

  constructor(
    private readonly now: () => number,
    warmupSteps = 1,
  ) {
    this.toSkip = warmupSteps;
  }

  /** A step starts now. */
  begin(): void {
    this.started = this.now();
  }

  /** The step under way (if any) ended now. */
  end(): void {
    if (this.started === null) return;
    const ms = this.now() - this.started;
    this.started = null;
    if (this.toSkip > 0) {
      this.toSkip -= 1;
      return;
    }
    this.count += 1;
    this.totalMs += ms;
    this.lastMs = ms;
  }

  /** What happened since begin() was not only a step (an epoch ended there): forget it. */
  discard(): void {
    this.started = null;
  }

  /** Mean over the measured steps; null before the first. */
  get msPerStep(): number | null {
    return this.count ? this.totalMs / this.count : null;
  }

  get last(): number | null {
    return this.lastMs;
  }

  get measuredSteps(): number {
    return this.count;
  }
}
