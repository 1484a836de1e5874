/**
 * `ood --anchors-cache FILE`: the teacher's anchors for u(x) (1 per class by centrality of its features over the
 * training split, oodLab.ts) depend only on the teacher's weights and the training split, yet cost a teacher
 * pass over every training image. A grid (`reproduce`) analyses many students of one teacher, so the first
 * analysis writes the indices here and the others read them back. The file names the teacher's weights
 * (sha256) and the split's size; a different teacher or set recomputes and replaces it.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { AnchorChooser } from '../engine/ood/oodLab';

interface CachedAnchors {
  readonly teacherWeights: string;
  readonly trainCount: number;
  readonly indices: number[];
}

export async function weightsDigest(weightsBin: Uint8Array): Promise<string> {
  return createHash('sha256').update(weightsBin).digest('hex');
}

/** A chooser that reads the indices from `file` when they fit, else runs `choose` and writes them. */
export function cachedAnchors(file: string, teacherWeights: string, choose: AnchorChooser): AnchorChooser {
  return async (chooser, train, onProgress) => {
    const kept = await readFile(file, 'utf8').then(
      (text) => JSON.parse(text) as CachedAnchors,
      () => null,
    );
    if (
      kept &&
      kept.teacherWeights === teacherWeights &&
      kept.trainCount === train.count &&
      Array.isArray(kept.indices) &&
      kept.indices.every((i) => Number.isInteger(i) && i >= 0 && i < train.count)
    )
      return kept.indices;
    const indices = [...(await choose(chooser, train, onProgress))];
    const record: CachedAnchors = { teacherWeights, trainCount: train.count, indices };
    // Whole or not at all: grid jobs running at once may both write it (the same indices).
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, JSON.stringify(record));
    await rename(partial, file);
    return indices;
  };
}
