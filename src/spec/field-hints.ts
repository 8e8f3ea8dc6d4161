import { z } from 'zod';

/** What a field expects, in words, and what to do when it is wrong; read by `describe-issue.ts`. */
export interface FieldHint {
  /** Completes "expected …, got …" when the value has the wrong type. */
  expected?: string;
  hint?: string;
}

/** Hints attached to the config's schemas, looked up by key path when a value is wrong. */
export const fieldHints = z.registry<FieldHint>();
