import { type Dataset, IMAGE_BYTES, type ImageSplit, PIXELS } from './cifar10';

export interface ChannelStats {
  /** Per-channel (R, G, B) mean of pixel values scaled to [0, 1]. */
  readonly mean: readonly [number, number, number];
  /** Per-channel population standard deviation (divides by N, as torchvision's CIFAR recipes do). */
  readonly std: readonly [number, number, number];
}

/** What the UI and the CLI show about a dataset: plain JSON, no pixel data. */
export interface DatasetSummary {
  readonly id: string;
  readonly name: string;
  readonly classNames: readonly string[];
  readonly trainSize: number;
  readonly testSize: number;
  readonly trainClassCounts: readonly number[];
  readonly testClassCounts: readonly number[];
  /** Over the training split (what normalisation uses); null when it is empty. */
  readonly channelStats: ChannelStats | null;
}

export function classCounts(labels: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

export function channelStats(split: ImageSplit): ChannelStats | null {
  if (split.count === 0) return null;
  const sum = [0, 0, 0];
  const sumSq = [0, 0, 0];
  // Integer sums per channel are exact (max 255^2 * 1024 * 60k < 2^53), so no float drift on the full set.
  for (let i = 0; i < split.count; i++) {
    for (let c = 0; c < 3; c++) {
      const start = i * IMAGE_BYTES + c * PIXELS;
      let s = 0;
      let s2 = 0;
      for (let p = start; p < start + PIXELS; p++) {
        const v = split.images[p]!;
        s += v;
        s2 += v * v;
      }
      sum[c]! += s;
      sumSq[c]! += s2;
    }
  }
  const n = split.count * PIXELS;
  const mean = sum.map((s) => s / n / 255);
  const std = sumSq.map((s2, c) => Math.sqrt(Math.max(0, s2 / n / 255 ** 2 - mean[c]! ** 2)));
  return { mean: [mean[0]!, mean[1]!, mean[2]!], std: [std[0]!, std[1]!, std[2]!] };
}

export function summarizeDataset(dataset: Dataset): DatasetSummary {
  const numClasses = dataset.classNames.length;
  return {
    id: dataset.id,
    name: dataset.name,
    classNames: dataset.classNames,
    trainSize: dataset.train.count,
    testSize: dataset.test.count,
    trainClassCounts: classCounts(dataset.train.labels, numClasses),
    testClassCounts: classCounts(dataset.test.labels, numClasses),
    channelStats: channelStats(dataset.train),
  };
}
