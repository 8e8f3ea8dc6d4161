/**
 * `cutover.yaml`: the zod schema of what users write, loading with `file:line:col` problems and
 * `--set` overrides, defaults, and the published JSON Schema. Produces the resolved types of
 * src/model/app-spec.ts.
 */
export { loadConfig, parseConfig, type LoadConfigOptions } from './load-config.js';
export { ConfigError, formatConfigProblems, type ConfigProblem } from './config-error.js';
export { parseDuration, formatDuration, DURATION_INVALID } from './parse-duration.js';
export { parseListen, formatListen, LISTEN_INVALID, MIN_PORT, MAX_PORT } from './parse-listen.js';
export { splitCommand, COMMAND_INVALID } from './split-command.js';
export { parseSize, formatSize, SIZE_INVALID } from './parse-size.js';
export { parseOverride, type Override } from './apply-overrides.js';
export { configSchema, type RawConfig } from './config-schema.js';
export { type RawApp } from './app-schema.js';
export { configJsonSchema } from './json-schema.js';
export { specHash } from './spec-hash.js';
export { configDriftMessage, describeSpecDifferences } from './spec-diff.js';
export * from './defaults.js';
