/** Seeded randomness that gives the same stream in Node, the Worker and the UI thread. */
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
