import { maskedEnv, secretValuesOf, textMasker } from '../model/secrets.js';
import type { AppSpec } from '../model/app-spec.js';
import type { Store } from '../store/store.js';

/**
 * A masker for everything the API answers: every secret value of every revision the store
 * holds becomes `***` wherever it shows up in text (hook output in events, a crashed
 * instance's last log line, a report). Read at once from the store: `cachedSecretMasker` keeps it until a revision is written.
 */
export function storeSecretMasker(store: Store): (text: string) => string {
  return textMasker(store.listApps().flatMap(({ name }) => store.listRevisions(name).flatMap((revision) => secretValuesOf(revision.spec.run))));
}

/**
 * `storeSecretMasker`, built again only when a revision was written: building it reads every
 * revision of every app, and built per log line and per answer that grew with apps × lines (at
 * 100 apps the controller spent most of `up` on it, and `up`'s own requests waited). Throws as
 * `storeSecretMasker` does; a masker that could not be built is not kept.
 *
 * @example
 * const masker = cachedSecretMasker(store);
 * masker()('password=s3cret'); // 'password=***' when s3cret is a secret of some revision
 */
export function cachedSecretMasker(store: Store): () => (text: string) => string {
  let cached: { version: number; mask: (text: string) => string } | null = null;
  return () => {
    const version = store.revisionsVersion();
    if (cached?.version !== version) {
      cached = null;
      cached = { version, mask: storeSecretMasker(store) };
    }
    return cached.mask;
  };
}

/** A cached masker where the store may be failing (an error answer, a log line): then nothing is masked, rather than nothing said. */
export function bestEffort(masker: () => (text: string) => string): (text: string) => string {
  try {
    return masker();
  } catch {
    return (text) => text;
  }
}

/** A revision's spec as the API shows it: its secret env values as `***`. */
export function maskedSpec(spec: AppSpec): AppSpec {
  return { ...spec, run: { ...spec.run, env: maskedEnv(spec.run) } };
}
