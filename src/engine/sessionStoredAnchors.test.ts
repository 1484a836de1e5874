import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './backend/initBackend';
import { selectAnchors } from './distill/anchors';
import { TeacherPasses } from './distill/teacherPasses';
import { findPreset } from './models/presets';
import { DEFAULT_TRAIN_CONFIG } from './training/hyperparams';
import { loadTeacher } from './training/labModels';
import { importRandomTeacher, uploadLab } from '../testing/labs';

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
});

/** Which splits' images went through the teacher (TeacherPasses' private fill, spied on the prototype). */
function spyPasses() {
  const fill = vi.spyOn(TeacherPasses.prototype as unknown as { fill: () => Promise<void> }, 'fill');
  return {
    splits: () => fill.mock.calls.map((call) => (call as unknown[])[1]),
    restore: () => fill.mockRestore(),
  };
}

describe("the trust panel's stored anchors", () => {
  it("reads a teacher's stored anchors instead of a pass over the training split, with the same scores", async () => {
    // The anchors the rule picks for this teacher on this split, as `anchors --store` would store them.
    const fresh = await uploadLab(120, 60);
    const datasetId = fresh.activeDataset().id;
    const model = findPreset('vgg-fast').build(3);
    const { indices, centrality } = await selectAnchors(model, fresh.activeDataset().train, { perClass: 1 });
    model.dispose();

    // Without stored anchors: one pass over the training split chooses them.
    await importRandomTeacher(fresh);
    let passes = spyPasses();
    const teacherOf = async (lab: typeof fresh) => (await lab.oodModels()).find((m) => m.role === 'teacher')!;
    const request = async (lab: typeof fresh) => ({
      models: [(await teacherOf(lab)).key],
      sets: ['gaussian'],
    });
    let chosen;
    try {
      chosen = (await fresh.runOod(await request(fresh), () => undefined))!;
      expect(passes.splits()).toContain(fresh.activeDataset().train);
    } finally {
      passes.restore();
    }
    expect(chosen.models[0]!.anchors).toContain('(10, chosen afresh)');

    // Stored with the teacher: no training-split pass, the same anchors' scores, and the panel says so.
    const stored = await uploadLab(120, 60);
    expect(stored.activeDataset().id).toBe(datasetId);
    await importRandomTeacher(stored, { anchors: { [datasetId]: { indices, centrality } } });
    passes = spyPasses();
    let read;
    const total: number[] = [];
    try {
      read = (await stored.runOod(await request(stored), (p) => total.push(p.total)))!;
      expect(passes.splits()).not.toContain(stored.activeDataset().train);
    } finally {
      passes.restore();
    }
    expect(read.models[0]!.anchors).toContain('(10, stored with the teacher)');
    // The progress counts no training images: test split and the noise set only.
    expect(Math.max(...total)).toBe(60 + 60);
    expect(read.rows.map((r) => [r.score, r.auroc])).toEqual(chosen.rows.map((r) => [r.score, r.auroc]));
  });

  it('chooses afresh when the stored list does not fit the split, and exports what it knows', async () => {
    const lab = await uploadLab(120, 60);
    const datasetId = lab.activeDataset().id;
    // Ten records, but not one per class in class order: not this split's anchors by the rule.
    await importRandomTeacher(lab, {
      anchors: {
        [datasetId]: { indices: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], centrality: new Array(10).fill(1) },
        embedded: { indices: [5, 7], centrality: [2, 1] },
      },
    });
    const teacher = (await lab.oodModels()).find((m) => m.role === 'teacher')!;
    const passes = spyPasses();
    try {
      const result = (await lab.runOod({ models: [teacher.key], sets: ['uniform'] }, () => undefined))!;
      expect(passes.splits()).toContain(lab.activeDataset().train);
      expect(result.models[0]!.anchors).toContain('chosen afresh');
    } finally {
      passes.restore();
    }
    // Export keeps the stored lists of prepared sets (an upload's id names files, not their contents).
    const files = Object.fromEntries((await lab.exportModel('teacher')).map((f) => [f.name, f.bytes]));
    const { anchors, model } = await loadTeacher(files['model.json']!, files['weights.bin']!, 'model.json');
    model.dispose();
    expect(anchors).toEqual({ embedded: { indices: [5, 7], centrality: [2, 1] } });
  });

  it("keeps an AKD run's anchors (1 per class, every label) with a loaded teacher: the panel then needs no pass", async () => {
    const lab = await uploadLab(120, 60);
    await importRandomTeacher(lab);
    const listener = {
      step: () => undefined,
      epoch: () => undefined,
      boundary: (p: { stepInEpoch: number }) => {
        if (p.stepInEpoch === 1) lab.pauseRun('distill');
      },
    };
    const config = {
      method: 'akd',
      params: {},
      labelledFraction: 1,
      train: { ...DEFAULT_TRAIN_CONFIG, role: 'student' as const, model: 'cnn-small', epochs: 1 },
    };
    expect(await lab.startRun('distill', config, listener)).toEqual({ kind: 'paused' });
    const runAnchors = (await lab.runAnchors())!.anchors.map((a) => a.index);
    lab.stopRun('distill');
    const teacher = (await lab.oodModels()).find((m) => m.role === 'teacher')!;
    const passes = spyPasses();
    try {
      const result = (await lab.runOod({ models: [teacher.key], sets: ['gaussian'] }, () => undefined))!;
      expect(passes.splits()).not.toContain(lab.activeDataset().train);
      expect(result.models[0]!.anchors).toContain('(10, chosen afresh)');
    } finally {
      passes.restore();
    }
    expect(runAnchors).toHaveLength(10);
  });
});
