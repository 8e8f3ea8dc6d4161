const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The 32-bit FNV-1a hash of a string's UTF-16 code units, as an unsigned integer. Stable
 * across processes and versions: sticky assignments depend on it.
 *
 * @example
 * fnv1a32(''); // 2166136261
 * fnv1a32('a'); // 3826002220
 */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash >>> 0;
}
