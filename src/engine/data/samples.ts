import { type Dataset, imageToRgba } from './cifar10';
import { seededRandom, shuffled } from './subset';

/** One image ready to draw: RGBA bytes for a 32x32 ImageData, with where it came from. */
export interface SampleImage {
  readonly split: 'train' | 'test';
  readonly index: number;
  readonly label: number;
  readonly className: string;
  readonly rgba: Uint8ClampedArray;
}

/** `count` distinct images picked by `seed`, from the training split (the test split when there is none). */
export function sampleImages(dataset: Dataset, count: number, seed: number): SampleImage[] {
  const split = dataset.train.count > 0 ? 'train' : 'test';
  const images = dataset[split];
  const order = shuffled(
    Array.from({ length: images.count }, (_, i) => i),
    seededRandom(seed),
  );
  return order.slice(0, count).map((index) => {
    const label = images.labels[index]!;
    return {
      split,
      index,
      label,
      className: dataset.classNames[label] ?? String(label),
      rgba: imageToRgba(images, index),
    };
  });
}
