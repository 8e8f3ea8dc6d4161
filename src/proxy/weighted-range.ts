const HASH_SPACE = 0x1_0000_0000;

/**
 * Maps a 32-bit hash into [0, totalWeight) and returns the index of the item whose range holds
 * it; items own consecutive ranges in list order, each as wide as its weight. So the first
 * item's range [0, w) only grows while its weight grows, and a hash inside it stays inside.
 * `totalWeight` is the sum of the weights (all > 0); an empty list gives -1.
 *
 * @example
 * weightedRangeIndex(0, [{ weight: 10 }, { weight: 90 }], 100); // 0
 * weightedRangeIndex(0xffff_ffff, [{ weight: 10 }, { weight: 90 }], 100); // 1
 */
export function weightedRangeIndex(hash: number, items: readonly { readonly weight: number }[], totalWeight: number): number {
  const point = (hash / HASH_SPACE) * totalWeight;
  let end = 0;
  for (let i = 0; i < items.length; i++) {
    end += items[i]!.weight;
    if (point < end) return i;
  }
  // Rounding can leave the point just past the last end.
  return items.length - 1;
}
