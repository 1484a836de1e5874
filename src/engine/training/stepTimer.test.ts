import { describe, expect, it } from 'vitest';
import { StepTimer } from './stepTimer';

/** A timer on a clock the test moves. */
function clocked(warmup?: number) {
  let now = 0;
  const timer = new StepTimer(() => now, warmup);
  const step = (ms: number) => {
    timer.begin();
    now += ms;
    timer.end();
  };
  return { timer, step, wait: (ms: number) => (now += ms) };
}

describe('StepTimer', () => {
  it('averages steps after the warm-up, between begin and end only', () => {
    const { timer, step, wait } = clocked(1);
    expect(timer.msPerStep).toBeNull();
    step(900); // warm-up: left out
    expect(timer.msPerStep).toBeNull();
    step(100);
    wait(5000); // the host's turn between steps
    step(200);
    expect(timer.msPerStep).toBe(150);
    expect(timer.last).toBe(200);
    expect(timer.measuredSteps).toBe(2);
  });

  it('leaves out a discarded interval (an epoch’s evaluation) and an end without a begin', () => {
    const { timer, step, wait } = clocked(0);
    step(100);
    timer.begin();
    wait(3000);
    timer.discard();
    timer.end();
    timer.end();
    expect(timer.msPerStep).toBe(100);
    expect(timer.measuredSteps).toBe(1);
  });
});
