/** `cutover up --set`: the overrides travel to the controller's first deploy in this variable, as a JSON list. */
export const UP_OVERRIDES_ENV = 'CUTOVER_UP_SET';

/** The `--set` overrides `cutover up` was given; none when absent or unreadable. */
export function upOverridesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  try {
    const parsed: unknown = JSON.parse(env[UP_OVERRIDES_ENV] ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}
