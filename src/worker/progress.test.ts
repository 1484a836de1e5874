import { describe, expect, it } from 'vitest';
import type { EpochLog, StepLog } from '../engine/training/trainer';
import type { RunPosition } from '../engine/run/runTypes';
import {
  etaSeconds,
  imagesDone,
  imagesLeft,
  type ProgressUpdate,
  ProgressForwarder,
  ThroughputMeter,
} from './progress';

const position = (completedEpochs: number, stepInEpoch: number): RunPosition => ({
  completedEpochs,
  stepInEpoch,
  stepsPerEpoch: 157,
  epochs: 10,
  batchSize: 64,
  trainCount: 10_000,
});

const stepLog = (step: number): StepLog => ({
  kind: 'step',
  epoch: 1,
  step,
  stepsPerEpoch: 157,
  learningRate: 0.05,
  terms: { ce: 2.3, weightDecay: 0.01, total: 2.31 },
});

const epochLog: EpochLog = {
  kind: 'epoch',
  epoch: 1,
  trainLoss: 2,
  trainAccuracy: 0.2,
  testAccuracy: 0.25,
  seconds: 30,
  imagesPerSecond: 333,
  numTensors: 40,
};

describe('positions in images', () => {
  it('counts a short last batch once, and what is left', () => {
    expect(imagesDone(position(0, 0))).toBe(0);
    expect(imagesDone(position(0, 10))).toBe(640);
    // 157 steps of 64 would be 10,048: the last batch holds only 16 images.
    expect(imagesDone(position(0, 157))).toBe(10_000);
    expect(imagesDone(position(2, 1))).toBe(20_064);
    expect(imagesLeft(position(9, 157))).toBe(0);
    expect(imagesLeft(position(0, 0))).toBe(100_000);
  });

  it('estimates time left from the rate, and gives none without one', () => {
    expect(etaSeconds(position(5, 0), 500)).toBe(100);
    expect(etaSeconds(position(5, 0), null)).toBeNull();
    expect(etaSeconds(position(5, 0), 0)).toBeNull();
  });
});

describe('ThroughputMeter', () => {
  it('measures over a sliding window, so a slow start (shader compilation) is forgotten', () => {
    const meter = new ThroughputMeter(10_000);
    expect(meter.imagesPerSecond()).toBeNull();
    meter.record(0, 0);
    expect(meter.imagesPerSecond()).toBeNull();
    meter.record(30_000, 64); // a first step that took 30 s
    expect(meter.imagesPerSecond()).toBeCloseTo(64 / 30, 6);
    for (let i = 1; i <= 40; i++) meter.record(30_000 + i * 500, 64 + i * 64);
    expect(meter.imagesPerSecond()).toBeCloseTo(128, 6);
  });
});

describe('ProgressForwarder', () => {
  function harness(intervalMs = 250) {
    let now = 0;
    const sent: ProgressUpdate[] = [];
    const forwarder = new ProgressForwarder(
      (u) => sent.push(u),
      () => now,
      intervalMs,
    );
    return { forwarder, sent, advance: (ms: number) => (now += ms) };
  }

  it('sends the first position at once, then batches logs to one update per interval', () => {
    const { forwarder, sent, advance } = harness();
    forwarder.boundary(position(0, 0));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      steps: [],
      position: position(0, 0),
      imagesPerSecond: null,
      etaSeconds: null,
    });
    // Ten steps of 50 ms: two updates in 500 ms, every log in exactly one of them, in order.
    for (let s = 1; s <= 10; s++) {
      advance(50);
      forwarder.step(stepLog(s));
      forwarder.boundary(position(0, s));
    }
    expect(sent).toHaveLength(3);
    forwarder.flush();
    expect(sent.flatMap((u) => u.steps.map((l) => l.step))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sent.at(-1)!.position).toEqual(position(0, 10));
    expect(sent.at(-1)!.imagesPerSecond).toBeCloseTo(1280, 6);
    expect(sent.at(-1)!.etaSeconds).toBeCloseTo((100_000 - 640) / 1280, 6);
  });

  it('sends an epoch log at once, with the steps before it', () => {
    const { forwarder, sent, advance } = harness();
    forwarder.boundary(position(0, 0));
    advance(10);
    forwarder.step(stepLog(1));
    expect(sent).toHaveLength(1);
    forwarder.epoch(epochLog);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ steps: [stepLog(1)], epochs: [epochLog] });
  });

  it('flushes only what is new, and nothing before a position is known', () => {
    const { forwarder, sent } = harness();
    forwarder.step(stepLog(1));
    forwarder.flush();
    expect(sent).toHaveLength(0);
    forwarder.boundary(position(0, 1));
    forwarder.flush();
    forwarder.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.steps).toEqual([stepLog(1)]);
  });
});
