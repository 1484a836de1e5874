/**
 * The files `npm run data` writes (under public/data/, served at <base>/data/), all in the CIFAR-10 binary
 * layout. One description shared by the preparation script, the Worker (fetch) and the CLI (fs).
 */
export const PREPARED_SETS = {
  embedded: {
    name: 'Embedded default (CIFAR-10, 1,000 train / 200 test per class)',
    train: ['embedded/train.bin'],
    test: ['embedded/test.bin'],
  },
  full: {
    name: 'Full CIFAR-10 (50,000 train / 10,000 test)',
    train: [1, 2, 3, 4, 5].map((n) => `cifar10/data_batch_${n}.bin`),
    test: ['cifar10/test_batch.bin'],
  },
} as const;

export type PreparedSetId = keyof typeof PREPARED_SETS;
export const PREPARED_SET_IDS = Object.keys(PREPARED_SETS) as PreparedSetId[];

/** Far out-of-distribution set for later issues: MNIST test digits, padded to 32x32, grey made RGB. */
export const MNIST_OOD_FILE = 'ood/mnist.bin';

/** The seed and sizes that fix the embedded subset; changing them changes every embedded-default result. */
export const EMBEDDED_SUBSET = {
  seed: 'distillery-embedded-v1',
  trainPerClass: 1000,
  testPerClass: 200,
} as const;

export const isPreparedSetId = (value: string): value is PreparedSetId => value in PREPARED_SETS;
