import { InputError } from '../errors.js';
import { describeValue } from './describe-value.js';

/** Thrown by {@link parseSize}; the loader turns it into a config problem. */
export const SIZE_INVALID = 'SIZE_INVALID';

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** The grammar {@link parseSize} accepts for strings, as an ECMAScript pattern for the JSON Schema. */
export const SIZE_PATTERN = '^\\d+(B|KiB|MiB|GiB)?$';
const SIZE = /^(\d+)(B|KiB|MiB|GiB)?$/;

const SIZE_HINT = 'write a whole number of bytes or a size such as 16KiB, 10MiB or 1GiB';

/** Largest size a config may state (1 TiB): far beyond any sensible limit, within exact integers. */
export const MAX_SIZE_BYTES = 1024 ** 4;

/**
 * Parses a size: a whole number of bytes, or a whole number with a binary unit.
 *
 * @example parseSize('16KiB') // 16_384
 * @example parseSize(512) // 512
 * @throws InputError with code `SIZE_INVALID` and a hint.
 */
export function parseSize(value: string | number): number {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else {
    const match = SIZE.exec(value);
    if (!match) throw new InputError(SIZE_INVALID, `expected a size such as 16KiB, got ${describeValue(value)}`, { hint: SIZE_HINT });
    bytes = Number(match[1]) * UNIT_BYTES[match[2] ?? 'B']!;
  }
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw new InputError(SIZE_INVALID, `expected a whole number of bytes ≥ 0, got ${describeValue(value)}`, { hint: SIZE_HINT });
  if (bytes > MAX_SIZE_BYTES)
    throw new InputError(SIZE_INVALID, `${describeValue(value)} is larger than the 1GiB×1024 limit`, { hint: 'write at most 1024GiB' });
  return bytes;
}

/** A size for messages and docs: `16KiB` when it is a whole number of a unit. */
export function formatSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) {
    const size = UNIT_BYTES[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
