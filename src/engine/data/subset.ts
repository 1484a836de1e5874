import { seededRandom, shuffled } from '../config/random';

// The seeded RNG and shuffle are in the tfjs-free contract (the UI's explorer draws with them too).
export { seededRandom, shuffled } from '../config/random';

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
