import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend/initBackend';
import { upsampledMasks, upsampleMaskValues } from './distill/anchorGallery';
import { upsampleMasks } from './distill/resize';
import { LabSession } from './session';
import { DEFAULT_TRAIN_CONFIG } from './training/hyperparams';
import { preparedRecords, uploadLab, importRandomTeacher } from '../testing/labs';

/** A lab on 256 real training images and 100 test images, with a random-weight vgg-fast teacher. */
async function labWithTeacher() {
  const lab = await uploadLab(256, 100);
  await importRandomTeacher(lab);
  return lab;
}

const distillConfig = (method: string) => ({
  method,
  params: {},
  labelledFraction: 1,
  train: { ...DEFAULT_TRAIN_CONFIG, role: 'student' as const, model: 'cnn-small', epochs: 1 },
});

const quiet = {
  ready: () => undefined,
  timing: () => undefined,
  step: () => undefined,
  epoch: () => undefined,
};

beforeAll(async () => {
  expect((await initBackend('wasm')).backend).toBe('wasm');
});

describe('the anchor gallery in the session', () => {
  it('previews anchors with progress, ranks them, and finds neighbours; refuses without a teacher', async () => {
    const empty = new LabSession({ readPreparedFile: () => Promise.reject(new Error('not used')) });
    empty.useUploads([{ name: 'data_batch_1.bin', bytes: await preparedRecords('embedded/train.bin', 50) }]);
    await expect(empty.previewAnchors(1)).rejects.toThrow('there is no teacher yet');

    const lab = await labWithTeacher();
    const progress: number[][] = [];
    const view = await lab.previewAnchors(2, (done, total) => progress.push([done, total]));
    expect(progress.at(-1)).toEqual([256, 256]);
    expect(view.source).toBe('preview');
    const classes = new Set(view.anchors.map((a) => a.class));
    expect(view.anchors).toHaveLength(2 * classes.size);
    for (const c of classes) {
      const ofClass = view.anchors.filter((a) => a.class === c);
      expect(ofClass.map((a) => a.rank)).toEqual([1, 2]);
      expect(ofClass[0]!.centrality).toBeGreaterThanOrEqual(ofClass[1]!.centrality);
    }
    expect(view.anchors.every((a) => a.mask === null && a.rgba.length === 32 * 32 * 4)).toBe(true);
    await expect(lab.previewAnchors(0)).rejects.toThrow(
      'anchors per class must be a whole number >= 1; got 0',
    );

    const anchor = view.anchors[0]!;
    const near = await lab.anchorNeighbours(anchor.index);
    expect(near.nearest).toHaveLength(8);
    expect(near.nearest.map((n) => n.index)).not.toContain(anchor.index);
    const cosines = near.nearest.map((n) => n.score);
    expect([...cosines].sort((a, b) => b - a)).toEqual(cosines);
    expect(near.leastCentral.every((n) => n.class === anchor.class)).toBe(true);
    expect(near.leastCentral[0]!.score).toBe(anchor.classSize);
    await expect(lab.anchorNeighbours(256)).rejects.toThrow(
      'record 256 is outside the training split (0..255)',
    );
  });

  it('shows an AKD run its masks live, keeps the final ones and each epoch, and none for KD', async () => {
    const lab = await labWithTeacher();
    let during: Awaited<ReturnType<LabSession['runAnchors']>> = null;
    let asked = false;
    const end = await lab.startRun('distill', distillConfig('akd'), {
      ...quiet,
      boundary: (p) => {
        if (p.stepInEpoch === 2 && !asked) {
          asked = true;
          void lab.runAnchors().then((v) => (during = v));
        }
      },
    });
    expect(end).toEqual({ kind: 'done' });
    expect(during).not.toBeNull();
    const final = (await lab.runAnchors())!;
    expect(final.source).toBe('run');
    expect(final.label).toContain('(final)');
    expect(final.history).toHaveLength(1);
    for (const anchor of final.anchors) {
      expect(anchor.mask).toHaveLength(32 * 32);
      expect(anchor.maskStats!.mean).toBeCloseTo(1, 5);
      expect(anchor.maskStats!.meanAbsMove).toBeGreaterThan(0);
    }

    await lab.startRun('distill', distillConfig('kd'), { ...quiet, boundary: () => undefined });
    expect(await lab.runAnchors()).toBeNull();
  });
});

describe('upsampleMaskValues', () => {
  it('equals upsampleMasks, the tensor op AKD trains through', () => {
    const cells = Float32Array.from({ length: 2 * 14 * 14 }, (_, i) => 1 + Math.sin(i * 0.7) * 0.3);
    const js = upsampledMasks({
      anchors: { indices: [0, 1], classes: [0, 1], centrality: [1, 1], classSizes: [1, 1] },
      size: 14,
      masks: cells,
    });
    const tensor = tf.tidy(() => upsampleMasks(tf.tensor4d(cells, [2, 14, 14, 1]), 32).dataSync());
    expect(js).toHaveLength(2);
    js.forEach((mask, i) => mask.forEach((v, p) => expect(v).toBeCloseTo(tensor[i * 1024 + p]!, 5)));
    expect(() => upsampleMaskValues(cells, 14, 0)).toThrow(
      'resize sizes must be whole numbers >= 1; got 14 -> 0',
    );
  });
});
