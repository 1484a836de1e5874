import { beforeAll, describe, expect, it } from 'vitest';
import { loadPreparedFromDisk } from '../../cli/dataFiles';
import { CIFAR10_CLASSES, type Dataset, emptySplit, IMAGE_BYTES, type ImageSplit, PIXELS } from './cifar10';
import { channelStats, classCounts, type DatasetSummary, summarizeDataset } from './stats';

/** Images whose R, G, B planes are each one constant value. */
function constantPlanes(
  planes: readonly (readonly [number, number, number])[],
  labels?: number[],
): ImageSplit {
  const images = new Uint8Array(planes.length * IMAGE_BYTES);
  planes.forEach((rgb, i) => {
    rgb.forEach((v, c) => {
      images.fill(v, i * IMAGE_BYTES + c * PIXELS, i * IMAGE_BYTES + (c + 1) * PIXELS);
    });
  });
  return {
    images,
    labels: Uint8Array.from(labels ?? planes.map(() => 0)),
    count: planes.length,
  };
}

describe('classCounts', () => {
  it('counts every label, zeros for absent classes', () => {
    expect(classCounts(Uint8Array.from([0, 0, 3, 9, 3, 0]), 10)).toEqual([3, 0, 0, 2, 0, 0, 0, 0, 0, 1]);
  });

  it('gives all zeros for no labels', () => {
    expect(classCounts(new Uint8Array(0), 4)).toEqual([0, 0, 0, 0]);
  });
});

describe('channelStats', () => {
  it('is null for an empty split', () => {
    expect(channelStats(emptySplit())).toBeNull();
  });

  it('matches hand-computed mean and population std on two constant images', () => {
    // R: 0 and 255 -> mean 0.5, std 0.5. G: 255 and 255 -> mean 1, std 0.
    // B: 51 and 102 -> mean 76.5/255 = 0.3, std 25.5/255 = 0.1.
    const stats = channelStats(
      constantPlanes([
        [0, 255, 51],
        [255, 255, 102],
      ]),
    );
    expect(stats).not.toBeNull();
    const { mean, std } = stats!;
    expect(mean[0]).toBeCloseTo(0.5, 10);
    expect(mean[1]).toBeCloseTo(1, 10);
    expect(mean[2]).toBeCloseTo(0.3, 10);
    expect(std[0]).toBeCloseTo(0.5, 10);
    expect(std[1]).toBeCloseTo(0, 6);
    expect(std[2]).toBeCloseTo(0.1, 10);
  });

  it('uses the population convention (divides by N, not N - 1)', () => {
    // Within one image: half of the R pixels 0, half 255. Population std 0.5; sample std would be
    // 0.5 * sqrt(1024 / 1023) = 0.500244.
    const split = constantPlanes([[0, 0, 0]]);
    split.images.fill(255, 0, PIXELS / 2);
    const { mean, std } = channelStats(split)!;
    expect(mean[0]).toBeCloseTo(0.5, 10);
    expect(std[0]).toBeCloseTo(0.5, 10);
    expect(mean[1]).toBe(0);
    expect(std[2]).toBe(0);
  });

  it('weights every pixel equally across images and channels stay apart', () => {
    // R values: one image all 10, one image all 40, one image all 100 -> mean 50/255, variance 1400/255^2.
    const { mean, std } = channelStats(
      constantPlanes([
        [10, 0, 200],
        [40, 0, 200],
        [100, 0, 200],
      ]),
    )!;
    expect(mean[0]).toBeCloseTo(50 / 255, 10);
    expect(std[0]).toBeCloseTo(Math.sqrt(1400) / 255, 10);
    expect(mean[1]).toBe(0);
    expect(mean[2]).toBeCloseTo(200 / 255, 10);
    expect(std[2]).toBeCloseTo(0, 6);
  });
});

describe('summarizeDataset', () => {
  it('summarises a dataset with an empty test split', () => {
    const train = constantPlanes(
      [
        [0, 255, 51],
        [255, 255, 102],
        [0, 255, 51],
      ],
      [2, 2, 7],
    );
    const dataset: Dataset = {
      id: 'upload:x.bin',
      name: 'Uploaded: x.bin',
      classNames: CIFAR10_CLASSES,
      train,
      test: emptySplit(),
    };
    const summary = summarizeDataset(dataset);
    expect(summary.id).toBe('upload:x.bin');
    expect(summary.name).toBe('Uploaded: x.bin');
    expect(summary.classNames).toEqual(CIFAR10_CLASSES);
    expect(summary.trainSize).toBe(3);
    expect(summary.testSize).toBe(0);
    expect(summary.trainClassCounts).toEqual([0, 0, 2, 0, 0, 0, 0, 1, 0, 0]);
    expect(summary.testClassCounts).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(summary.channelStats).toEqual(channelStats(train));
    expect(summary.channelStats!.mean[0]).toBeCloseTo(85 / 255, 10);
    // Plain JSON: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('has null channel statistics when the training split is empty', () => {
    const summary = summarizeDataset({
      id: 'upload:test_batch.bin',
      name: 'Uploaded',
      classNames: CIFAR10_CLASSES,
      train: emptySplit(),
      test: constantPlanes([[1, 2, 3]], [4]),
    });
    expect(summary.trainSize).toBe(0);
    expect(summary.testSize).toBe(1);
    expect(summary.testClassCounts).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(summary.channelStats).toBeNull();
  });
});

describe('the prepared full CIFAR-10 set', () => {
  // One pass over the 50,000 images (about 1.5 s), shared by both tests.
  let summary: DatasetSummary;
  beforeAll(async () => {
    summary = summarizeDataset(await loadPreparedFromDisk('full'));
  });

  it('has 50,000 training images (5,000 per class) and 10,000 test images (1,000 per class)', () => {
    expect(summary.id).toBe('full');
    expect(summary.trainSize).toBe(50_000);
    expect(summary.testSize).toBe(10_000);
    expect(summary.trainClassCounts).toEqual(new Array(10).fill(5_000));
    expect(summary.testClassCounts).toEqual(new Array(10).fill(1_000));
  });

  it('has the well-known CIFAR-10 training mean and std', () => {
    expect(summary.channelStats).not.toBeNull();
    const { mean, std } = summary.channelStats!;
    // Commonly quoted: mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616).
    expect(mean[0]).toBeCloseTo(0.4914, 4);
    expect(mean[1]).toBeCloseTo(0.4822, 4);
    expect(mean[2]).toBeCloseTo(0.4465, 4);
    expect(std[0]).toBeCloseTo(0.247, 4);
    expect(std[1]).toBeCloseTo(0.2435, 4);
    expect(std[2]).toBeCloseTo(0.2616, 4);
  });
});
