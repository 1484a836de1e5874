import { describe, expect, it } from 'vitest';
import { type LoopHelperWorker, prespawnedHelpers } from './wasmTeamStart';

/** A stand-in Worker that records whether it was ended (the helpers' real start is e2e/loopTeam.spec.ts's). */
function fakeWorker(id: number) {
  const worker = { id, terminated: false, terminate: () => void (worker.terminated = true) };
  return worker;
}

describe('prespawnedHelpers', () => {
  it('spawns its workers at once, hands them out first, then new ones; release ends only those never handed out', () => {
    const made: ReturnType<typeof fakeWorker>[] = [];
    const spawn = () => {
      const worker = fakeWorker(made.length);
      made.push(worker);
      return worker as unknown as LoopHelperWorker;
    };
    const helpers = prespawnedHelpers(3, spawn);
    expect(made).toHaveLength(3);
    const first = helpers.spawn() as unknown as ReturnType<typeof fakeWorker>;
    expect(first.id).toBe(0);
    expect(made).toHaveLength(3);
    helpers.release();
    expect(made.map((w) => w.terminated)).toEqual([false, true, true]);
    // Spares gone: the factory makes new ones again.
    expect((helpers.spawn() as unknown as ReturnType<typeof fakeWorker>).id).toBe(3);
    helpers.release();
    expect(made[3]!.terminated).toBe(false);
  });
});
