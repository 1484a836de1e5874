import { formatCount } from '../../engine/data/cifar10';
import { isPreparedSetId, PREPARED_SET_IDS } from '../../engine/data/prepared';
import { type DatasetSummary, summarizeDataset } from '../../engine/data/stats';
import { loadFilesFromDisk, loadPreparedFromDisk } from '../dataFiles';
import { UsageError } from '../usage';

export const DATA_USAGE = `npm run cli -- data [--set ${PREPARED_SET_IDS.join('|')}] [--file PATH ...] [--json]
  Prints a dataset's size, per-class counts and per-channel mean/std (pixels scaled to [0, 1]).
  --set   a prepared set (default embedded)
  --file  CIFAR-10 binary batch files (.bin) or cifar-10-binary.tar.gz, read like a browser upload
  --json  one JSON object instead of the table`;

export interface DataOptions {
  set?: string | undefined;
  file?: string[] | undefined;
  json?: boolean | undefined;
}

export async function dataCommand(options: DataOptions): Promise<string> {
  const set = options.set ?? 'embedded';
  if (!isPreparedSetId(set))
    throw new UsageError(`--set must be one of ${PREPARED_SET_IDS.join(', ')}; got "${set}"`);
  const dataset = options.file?.length
    ? await loadFilesFromDisk(options.file)
    : await loadPreparedFromDisk(set);
  const summary = summarizeDataset(dataset);
  return options.json ? JSON.stringify(summary) : formatSummary(summary);
}

const fixed = (values: readonly number[]) => values.map((v) => v.toFixed(4)).join(' ');

export function formatSummary(s: DatasetSummary): string {
  const width = Math.max(...s.classNames.map((n) => n.length));
  const lines = [
    s.name,
    `train ${formatCount(s.trainSize)} images, test ${formatCount(s.testSize)} images`,
    `${'class'.padEnd(width)}  ${'train'.padStart(7)}  ${'test'.padStart(7)}`,
    ...s.classNames.map(
      (name, c) =>
        `${name.padEnd(width)}  ${formatCount(s.trainClassCounts[c] ?? 0).padStart(7)}  ${formatCount(s.testClassCounts[c] ?? 0).padStart(7)}`,
    ),
  ];
  if (s.channelStats) {
    lines.push(`mean (R G B) ${fixed(s.channelStats.mean)}`, `std  (R G B) ${fixed(s.channelStats.std)}`);
  } else {
    lines.push('mean/std: no training images');
  }
  return lines.join('\n');
}
