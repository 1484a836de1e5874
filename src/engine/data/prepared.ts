import { CIFAR10_CLASSES, concatSplits, type Dataset, parseCifarBinary } from './cifar10';
import { PREPARED_SETS, type PreparedSetId } from '../config/datasets';

// The sets' ids and files are part of the tfjs-free contract (the UI lists them); reading them is here.
export {
  EMBEDDED_SUBSET,
  isPreparedSetId,
  MNIST_OOD_FILE,
  PREPARED_SET_IDS,
  PREPARED_SETS,
  type PreparedSetId,
} from '../config/datasets';

/** Loads a prepared set through a host-specific reader (fetch in the Worker, fs in Node). */
export async function loadPreparedSet(
  id: PreparedSetId,
  readFile: (relativePath: string) => Promise<Uint8Array>,
): Promise<Dataset> {
  const set = PREPARED_SETS[id];
  const read = (paths: readonly string[]) =>
    Promise.all(paths.map(async (path) => parseCifarBinary(await readFile(path), path)));
  const [train, test] = await Promise.all([read(set.train), read(set.test)]);
  return {
    id,
    name: set.name,
    classNames: CIFAR10_CLASSES,
    train: concatSplits(train),
    test: concatSplits(test),
  };
}
