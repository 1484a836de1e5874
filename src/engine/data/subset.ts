import seedrandom from 'seedrandom';

/** A seeded uniform RNG in [0, 1); the same seed gives the same stream in Node and in the browser. */
export function seededRandom(seed: string | number): () => number {
  return seedrandom(String(seed));
}

/** Fisher-Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * `perClass` record indices of every class, chosen by `seed`, returned in ascending order so a subset keeps
 * the source's order. Throws when a class has fewer than `perClass` records.
 */
export function classBalancedSubset(
  labels: Uint8Array,
  numClasses: number,
  perClass: number,
  seed: string,
): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, index) => {
    byClass[label]?.push(index);
  });
  const random = seededRandom(seed);
  const picked: number[] = [];
  byClass.forEach((indices, label) => {
    if (indices.length < perClass) {
      throw new RangeError(
        `class ${label} has ${indices.length} records, fewer than the ${perClass} asked for`,
      );
    }
    picked.push(...shuffled(indices, random).slice(0, perClass));
  });
  return picked.sort((a, b) => a - b);
}
