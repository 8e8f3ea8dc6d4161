import { maskedEnv, secretValuesOf, textMasker } from '../model/secrets.js';
import type { AppSpec } from '../model/app-spec.js';
import type { Store } from '../store/store.js';

/**
 * A masker for everything the API answers: every secret value of every revision the store
 * holds becomes `***` wherever it shows up in text (hook output in events, a crashed
 * instance's last log line, a report). Built per answer, so a new revision counts at once.
 */
export function storeSecretMasker(store: Store): (text: string) => string {
  return textMasker(store.listApps().flatMap(({ name }) => store.listRevisions(name).flatMap((revision) => secretValuesOf(revision.spec.run))));
}

/** The same where the store may be failing (an error answer, a log line): then nothing is masked, rather than nothing said. */
export function bestEffortSecretMasker(store: Store): (text: string) => string {
  try {
    return storeSecretMasker(store);
  } catch {
    return (text) => text;
  }
}

/** A revision's spec as the API shows it: its secret env values as `***`. */
export function maskedSpec(spec: AppSpec): AppSpec {
  return { ...spec, run: { ...spec.run, env: maskedEnv(spec.run) } };
}
