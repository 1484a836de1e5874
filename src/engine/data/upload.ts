import { gunzipSync } from 'fflate';
import { parseTar } from 'nanotar';
import {
  CIFAR10_CLASSES,
  concatSplits,
  type Dataset,
  DatasetError,
  emptySplit,
  formatCount,
  type ImageSplit,
  parseCifarBinary,
} from './cifar10';

/** A file the user dropped or chose, already read into memory (in the Worker, never on the main thread). */
export interface UploadedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

interface NamedBatch {
  /** Where the records came from, e.g. `cifar-10-binary.tar.gz/cifar-10-batches-bin/test_batch.bin`. */
  readonly path: string;
  readonly split: ImageSplit;
}

const ACCEPTED =
  'cifar-10-binary.tar.gz (the official binary archive), a .tar of it, or its .bin batch files';

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const isTestBatch = (path: string): boolean => /^test_batch/i.test(baseName(path));
const isGzip = (bytes: Uint8Array): boolean => bytes[0] === 0x1f && bytes[1] === 0x8b;

function gunzip(file: UploadedFile): Uint8Array {
  if (!isGzip(file.bytes))
    throw new DatasetError(`${file.name}: not gzip-compressed, so not a .tar.gz archive`);
  try {
    return gunzipSync(file.bytes);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new DatasetError(`${file.name}: the gzip data is corrupt or truncated (${why})`);
  }
}

function batchesInTar(archiveName: string, tarBytes: Uint8Array): NamedBatch[] {
  let entries: ReturnType<typeof parseTar>;
  try {
    entries = parseTar(tarBytes);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new DatasetError(`${archiveName}: not a readable tar archive (${why})`);
  }
  const files = entries.filter(
    (e): e is (typeof entries)[number] & { data: Uint8Array } =>
      (e.type === undefined || e.type === 'file') && 'data' in e && e.data instanceof Uint8Array,
  );
  const bins = files.filter((e) => /^(data|test)_batch(_\d+)?\.bin$/i.test(baseName(e.name)));
  if (bins.length === 0) {
    const seen = files.slice(0, 5).map((e) => e.name);
    throw new DatasetError(
      `${archiveName}: no CIFAR-10 batch files (data_batch_N.bin, test_batch.bin) inside; found ${
        seen.length ? seen.join(', ') : 'no files'
      }`,
    );
  }
  if (!bins.some((e) => isTestBatch(e.name))) {
    throw new DatasetError(
      `${archiveName}: has no test_batch.bin (found ${bins.map((e) => baseName(e.name)).join(', ')})`,
    );
  }
  return bins.map((e) => {
    const path = `${archiveName}/${e.name}`;
    return { path, split: parseCifarBinary(e.data, path) };
  });
}

function batchesInFile(file: UploadedFile): NamedBatch[] {
  const lower = file.name.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return batchesInTar(file.name, gunzip(file));
  if (lower.endsWith('.tar')) return batchesInTar(file.name, file.bytes);
  if (lower.endsWith('.bin')) return [{ path: file.name, split: parseCifarBinary(file.bytes, file.name) }];
  throw new DatasetError(`${file.name}: not a file this lab reads; drop ${ACCEPTED}`);
}

/**
 * Builds a dataset from uploads. Files named test_batch* become the test split, every other batch the
 * training split (in name order, so data_batch_1..5 keep their official order). Throws DatasetError, naming
 * the file and the problem, before anything is replaced.
 */
export function datasetFromUploads(files: readonly UploadedFile[]): Dataset {
  if (files.length === 0) throw new DatasetError(`No file given; drop ${ACCEPTED}`);
  const batches = files
    .flatMap(batchesInFile)
    .sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
  const train = batches.filter((b) => !isTestBatch(b.path)).map((b) => b.split);
  const test = batches.filter((b) => isTestBatch(b.path)).map((b) => b.split);
  const merged = {
    train: train.length ? concatSplits(train) : emptySplit(),
    test: test.length ? concatSplits(test) : emptySplit(),
  };
  const names = files.map((f) => f.name).join(', ');
  return {
    id: `upload:${names}`,
    name: `Uploaded: ${names} (${formatCount(merged.train.count)} train / ${formatCount(merged.test.count)} test)`,
    classNames: CIFAR10_CLASSES,
    ...merged,
  };
}
