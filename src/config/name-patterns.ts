/**
 * Patterns of names and values that the config schema and the admin API both check, apart from
 * the schema: the API (in the controller) checks a spec without loading zod.
 */
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `host:container[:options]`: a host path (absolute or ./relative) or a volume name, an absolute container path, engine options. */
export const VOLUME_PATTERN = /^(?:\.{0,2}\/[^:]*|[A-Za-z0-9][A-Za-z0-9_.-]*):\/[^:]*(?::[A-Za-z0-9,]+)?$/;
