import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './backend/initBackend';
import { TeacherPasses } from './distill/teacherPasses';
import { importRandomTeacher, uploadLab } from '../testing/labs';

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
});

describe("the session's one teacher pass per split", () => {
  it('serves the measurement, the explorer, the gallery and the trust panel from one pass per split', async () => {
    const lab = await uploadLab(120, 60);
    await importRandomTeacher(lab);
    // Every batch any pass runs goes through TeacherPasses' fill (private; spied on the prototype).
    const fill = vi.spyOn(TeacherPasses.prototype as unknown as { fill: () => Promise<void> }, 'fill');
    const splitsRun = () => fill.mock.calls.map((call) => (call as unknown[])[1]);
    try {
      const measured = await lab.measureTeacher();
      expect(measured.outcome).toBe('measured');
      expect(splitsRun()).toHaveLength(1);

      // The explorer's logits: the measurement's pass, so no image runs again, and the same accuracy.
      const logits = await lab.teacherLogits();
      expect(splitsRun()).toHaveLength(1);
      let correct = 0;
      for (let i = 0; i < logits.count; i++) {
        const row = Array.from(logits.logits.subarray(i * logits.classes, (i + 1) * logits.classes));
        if (row.indexOf(Math.max(...row)) === logits.labels[i]) correct += 1;
      }
      if (measured.outcome !== 'measured') throw new Error('unreachable');
      expect(measured.info.testAccuracy).toBe(correct / logits.count);

      // The gallery's features over the training split: one more pass; then the trust panel reuses both and
      // runs only the noise set through the teacher.
      await lab.previewAnchors(1);
      expect(splitsRun()).toHaveLength(2);
      const teacher = (await lab.oodModels()).find((m) => m.role === 'teacher')!;
      const result = await lab.runOod({ models: [teacher.key], sets: ['gaussian'] }, () => undefined);
      expect(splitsRun()).toHaveLength(3);
      expect(new Set(splitsRun()).size).toBe(3);
      expect(result!.models[0]!.accuracy).toBe(measured.info.testAccuracy);
    } finally {
      fill.mockRestore();
    }
  });
});
