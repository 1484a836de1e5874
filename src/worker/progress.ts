/**
 * Training progress as the Worker sends it to the UI: step logs gathered into batches and sent at most a few
 * times a second (each message makes the UI redraw its charts), with throughput and time left. Pure: the
 * clock is passed in, so the unit tests drive it.
 */
import type { EpochLog, StepLog } from '../engine/training/trainer';
import type { RunPosition } from '../engine/run/runTypes';

export interface ProgressUpdate {
  /** Step logs since the previous update, in order. */
  readonly steps: readonly StepLog[];
  /** Epoch logs since the previous update, in order. */
  readonly epochs: readonly EpochLog[];
  readonly position: RunPosition;
  /** Training images per second over the last few seconds; null until two positions are known. */
  readonly imagesPerSecond: number | null;
  /** Seconds until the last epoch ends at that rate; null while the rate is unknown. */
  readonly etaSeconds: number | null;
}

/** Images trained on up to a position (the last batch of an epoch may be short). */
export const imagesDone = (p: RunPosition): number =>
  p.completedEpochs * p.trainCount + Math.min(p.stepInEpoch * p.batchSize, p.trainCount);

export const imagesLeft = (p: RunPosition): number => Math.max(0, p.epochs * p.trainCount - imagesDone(p));

/** Images per second over a sliding window of (time, images done) samples. */
export class ThroughputMeter {
  private readonly samples: { time: number; images: number }[] = [];

  constructor(private readonly windowMs = 15_000) {}

  record(timeMs: number, images: number): void {
    this.samples.push({ time: timeMs, images });
    // Keep the newest sample at or before the window's start as the baseline.
    while (this.samples.length > 2 && timeMs - this.samples[1]!.time >= this.windowMs) this.samples.shift();
  }

  imagesPerSecond(): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.time <= first.time) return null;
    return ((last.images - first.images) * 1000) / (last.time - first.time);
  }
}

export const etaSeconds = (position: RunPosition, imagesPerSecond: number | null): number | null =>
  imagesPerSecond && imagesPerSecond > 0 ? imagesLeft(position) / imagesPerSecond : null;

/**
 * Collects a run's logs and positions and sends an update when `intervalMs` has passed since the last one;
 * an epoch's end and `flush()` (the run pausing or ending) send at once.
 */
export class ProgressForwarder {
  private steps: StepLog[] = [];
  private epochs: EpochLog[] = [];
  private position: RunPosition | null = null;
  private changed = false;
  private lastSent = Number.NEGATIVE_INFINITY;
  private readonly meter = new ThroughputMeter();

  constructor(
    private readonly send: (update: ProgressUpdate) => void,
    private readonly now: () => number,
    private readonly intervalMs = 250,
  ) {}

  step(log: StepLog): void {
    this.steps.push(log);
    this.changed = true;
    this.sendIfDue();
  }

  epoch(log: EpochLog): void {
    this.epochs.push(log);
    this.changed = true;
    this.flush();
  }

  boundary(position: RunPosition): void {
    this.position = position;
    this.meter.record(this.now(), imagesDone(position));
    this.changed = true;
    this.sendIfDue();
  }

  /** Sends what has not been sent yet. */
  flush(): void {
    if (!this.changed || !this.position) return;
    const imagesPerSecond = this.meter.imagesPerSecond();
    this.send({
      steps: this.steps,
      epochs: this.epochs,
      position: this.position,
      imagesPerSecond,
      etaSeconds: etaSeconds(this.position, imagesPerSecond),
    });
    this.steps = [];
    this.epochs = [];
    this.changed = false;
    this.lastSent = this.now();
  }

  private sendIfDue(): void {
    if (this.now() - this.lastSent >= this.intervalMs) this.flush();
  }
}
