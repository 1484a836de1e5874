import { gzipSync } from 'fflate';
import { createTar } from 'nanotar';
import { describe, expect, it } from 'vitest';
import {
  CIFAR10_CLASSES,
  DatasetError,
  encodeCifarBinary,
  IMAGE_BYTES,
  type ImageSplit,
  RECORD_BYTES,
} from './cifar10';
import { datasetFromUploads, type UploadedFile } from './upload';
import { errorOf } from '../../testing/errorOf';

/**
 * A batch of `count` records whose label is `label` and whose pixels all equal `fill`, so that where each
 * record ended up after merging can be read off its first pixel.
 */
function batch(count: number, label: number, fill: number): Uint8Array {
  const split: ImageSplit = {
    images: new Uint8Array(count * IMAGE_BYTES).fill(fill),
    labels: new Uint8Array(count).fill(label),
    count,
  };
  return encodeCifarBinary(split);
}

const firstPixels = (split: ImageSplit): number[] =>
  Array.from({ length: split.count }, (_, i) => split.images[i * IMAGE_BYTES]!);

const ACCEPTED =
  'cifar-10-binary.tar.gz (the official binary archive), a .tar of it, or its .bin batch files';

/** The official archive's layout: cifar-10-batches-bin/ with five training batches, the test batch and the meta. */
function officialTar(): Uint8Array {
  return createTar([
    { name: 'cifar-10-batches-bin/' },
    { name: 'cifar-10-batches-bin/batches.meta.txt', data: `${CIFAR10_CLASSES.join('\n')}\n` },
    // Out of order on purpose: the dataset must still follow the official order 1..5.
    { name: 'cifar-10-batches-bin/data_batch_3.bin', data: batch(2, 3, 30) },
    { name: 'cifar-10-batches-bin/data_batch_1.bin', data: batch(2, 1, 10) },
    { name: 'cifar-10-batches-bin/data_batch_2.bin', data: batch(2, 2, 20) },
    { name: 'cifar-10-batches-bin/data_batch_4.bin', data: batch(2, 4, 40) },
    { name: 'cifar-10-batches-bin/data_batch_5.bin', data: batch(2, 5, 50) },
    { name: 'cifar-10-batches-bin/test_batch.bin', data: batch(3, 9, 90) },
    { name: 'cifar-10-batches-bin/readme.html', data: '<html></html>' },
  ]);
}

describe('datasetFromUploads: loose .bin files', () => {
  it('puts test_batch.bin in the test split and data_batch_N.bin in training, in name order', () => {
    const files: UploadedFile[] = [
      { name: 'data_batch_2.bin', bytes: batch(3, 2, 20) },
      { name: 'test_batch.bin', bytes: batch(2, 9, 90) },
      { name: 'data_batch_1.bin', bytes: batch(4, 1, 10) },
    ];
    const dataset = datasetFromUploads(files);
    expect(dataset.train.count).toBe(7);
    expect(dataset.test.count).toBe(2);
    expect(Array.from(dataset.train.labels)).toEqual([1, 1, 1, 1, 2, 2, 2]);
    expect(firstPixels(dataset.train)).toEqual([10, 10, 10, 10, 20, 20, 20]);
    expect(Array.from(dataset.test.labels)).toEqual([9, 9]);
    expect(firstPixels(dataset.test)).toEqual([90, 90]);
    expect(dataset.classNames).toEqual(CIFAR10_CLASSES);
    // The id and name list the files as given.
    expect(dataset.id).toBe('upload:data_batch_2.bin, test_batch.bin, data_batch_1.bin');
    expect(dataset.name).toBe(
      'Uploaded: data_batch_2.bin, test_batch.bin, data_batch_1.bin (7 train / 2 test)',
    );
  });

  it('orders batch numbers numerically (2 before 10)', () => {
    const dataset = datasetFromUploads([
      { name: 'data_batch_10.bin', bytes: batch(1, 0, 100) },
      { name: 'data_batch_2.bin', bytes: batch(1, 0, 2) },
      { name: 'data_batch_1.bin', bytes: batch(1, 0, 1) },
    ]);
    expect(firstPixels(dataset.train)).toEqual([1, 2, 100]);
  });

  it('accepts a test batch alone (empty training split)', () => {
    const dataset = datasetFromUploads([{ name: 'test_batch.bin', bytes: batch(5, 3, 7) }]);
    expect(dataset.train.count).toBe(0);
    expect(dataset.train.images.length).toBe(0);
    expect(dataset.test.count).toBe(5);
    expect(dataset.name).toBe('Uploaded: test_batch.bin (0 train / 5 test)');
  });

  it('reports a corrupt loose .bin by its name', () => {
    const error = errorOf(() =>
      datasetFromUploads([
        { name: 'data_batch_1.bin', bytes: batch(1, 0, 0) },
        { name: 'test_batch.bin', bytes: new Uint8Array(RECORD_BYTES - 1) },
      ]),
    );
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe('test_batch.bin: 3,072 bytes is not a whole number of 3,073-byte records');
  });
});

describe('datasetFromUploads: archives', () => {
  it('reads the official cifar-10-binary.tar.gz layout', () => {
    const gz = gzipSync(officialTar());
    const dataset = datasetFromUploads([{ name: 'cifar-10-binary.tar.gz', bytes: gz }]);
    expect(dataset.train.count).toBe(10);
    expect(dataset.test.count).toBe(3);
    expect(Array.from(dataset.train.labels)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(firstPixels(dataset.train)).toEqual([10, 10, 20, 20, 30, 30, 40, 40, 50, 50]);
    expect(Array.from(dataset.test.labels)).toEqual([9, 9, 9]);
    expect(dataset.id).toBe('upload:cifar-10-binary.tar.gz');
    expect(dataset.name).toBe('Uploaded: cifar-10-binary.tar.gz (10 train / 3 test)');
  });

  it('reads the same archive as .tgz and as an uncompressed .tar', () => {
    const tar = officialTar();
    for (const file of [
      { name: 'cifar.tgz', bytes: gzipSync(tar) },
      { name: 'cifar-10-binary.tar', bytes: tar },
    ]) {
      const dataset = datasetFromUploads([file]);
      expect(dataset.train.count).toBe(10);
      expect(dataset.test.count).toBe(3);
    }
  });

  it('refuses a truncated .tar.gz, naming the file', () => {
    // Incompressible payload, so that cutting the gzip stream in half cuts the deflate data itself.
    const noise = new Uint8Array(RECORD_BYTES * 20);
    let x = 12345;
    for (let i = 0; i < noise.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      noise[i] = x >>> 24;
    }
    for (let i = 0; i < 20; i++) noise[i * RECORD_BYTES] = i % 10;
    const gz = gzipSync(
      createTar([
        { name: 'cifar-10-batches-bin/data_batch_1.bin', data: noise },
        { name: 'cifar-10-batches-bin/test_batch.bin', data: batch(1, 0, 0) },
      ]),
    );
    const error = errorOf(() =>
      datasetFromUploads([{ name: 'cifar-10-binary.tar.gz', bytes: gz.subarray(0, gz.length >> 1) }]),
    );
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toMatch(/^cifar-10-binary\.tar\.gz: the gzip data is corrupt or truncated \(.+\)$/);
  });

  it('refuses a file named .tar.gz that is not gzip', () => {
    const error = errorOf(() =>
      datasetFromUploads([{ name: 'cifar-10-binary.tar.gz', bytes: officialTar() }]),
    );
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe('cifar-10-binary.tar.gz: not gzip-compressed, so not a .tar.gz archive');
  });

  it('refuses an archive with no batch files, listing what it found', () => {
    const gz = gzipSync(
      createTar([
        { name: 'photos/cat.png', data: new Uint8Array(10) },
        { name: 'photos/dog.png', data: new Uint8Array(10) },
      ]),
    );
    const error = errorOf(() => datasetFromUploads([{ name: 'photos.tar.gz', bytes: gz }]));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(
      'photos.tar.gz: no CIFAR-10 batch files (data_batch_N.bin, test_batch.bin) inside; found photos/cat.png, photos/dog.png',
    );
  });

  it('refuses an archive without test_batch.bin, listing the batches it has', () => {
    const gz = gzipSync(
      createTar([
        { name: 'cifar-10-batches-bin/data_batch_1.bin', data: batch(1, 0, 0) },
        { name: 'cifar-10-batches-bin/data_batch_2.bin', data: batch(1, 0, 0) },
      ]),
    );
    const error = errorOf(() => datasetFromUploads([{ name: 'cifar-10-binary.tar.gz', bytes: gz }]));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(
      'cifar-10-binary.tar.gz: has no test_batch.bin (found data_batch_1.bin, data_batch_2.bin)',
    );
  });

  it('names the archive and the inner path of a corrupt batch', () => {
    const gz = gzipSync(
      createTar([
        { name: 'cifar-10-batches-bin/data_batch_1.bin', data: batch(1, 0, 0) },
        { name: 'cifar-10-batches-bin/test_batch.bin', data: new Uint8Array(100) },
      ]),
    );
    const error = errorOf(() => datasetFromUploads([{ name: 'cifar-10-binary.tar.gz', bytes: gz }]));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(
      'cifar-10-binary.tar.gz/cifar-10-batches-bin/test_batch.bin: 100 bytes is not a whole number of 3,073-byte records',
    );
  });
});

describe('datasetFromUploads: other input', () => {
  it('refuses a .png, naming the file and what is accepted', () => {
    const error = errorOf(() => datasetFromUploads([{ name: 'cat.png', bytes: new Uint8Array(64) }]));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(`cat.png: not a file this lab reads; drop ${ACCEPTED}`);
  });

  it('refuses the whole upload when one of several files is wrong', () => {
    const error = errorOf(() =>
      datasetFromUploads([
        { name: 'test_batch.bin', bytes: batch(1, 0, 0) },
        { name: 'notes.txt', bytes: new Uint8Array(3) },
      ]),
    );
    expect(error.message).toBe(`notes.txt: not a file this lab reads; drop ${ACCEPTED}`);
  });

  it('refuses no files', () => {
    const error = errorOf(() => datasetFromUploads([]));
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.message).toBe(`No file given; drop ${ACCEPTED}`);
  });
});
