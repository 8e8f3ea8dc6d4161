import { CutoverError } from '../errors.js';
import { EVENT_KINDS, type EventKind } from '../model/event-kinds.js';

/** The environment variable that arms the switch: `CUTOVER_CRASH_AFTER=<event kind>:<n>`. Tests only. */
export const CRASH_AFTER_ENV = 'CUTOVER_CRASH_AFTER';

/**
 * Fault injection for crash tests: the controller SIGKILLs itself right after the n-th stored
 * event of one kind. Events of the daemon's own initial deploy do not count (see `ignoring`), so
 * a test that deploys through the API knows exactly where the crash lands.
 *
 * @example
 * const crash = CrashSwitch.fromEnv(process.env);   // CUTOVER_CRASH_AFTER=instance-ready:2
 * crash?.onEventStored('instance-ready', 7);        // the second call kills the process
 */
export class CrashSwitch {
  private seen = 0;
  private suspended = 0;
  private readonly ignoredRollouts = new Set<number>();

  constructor(
    readonly kind: EventKind,
    readonly occurrence: number,
    private readonly crash: () => void = () => process.kill(process.pid, 'SIGKILL'),
  ) {}

  /** Null when the variable is unset or empty; a malformed value is an error, never silently ignored. */
  static fromEnv(env: NodeJS.ProcessEnv, crash?: () => void): CrashSwitch | null {
    const value = env[CRASH_AFTER_ENV];
    if (!value) return null;
    const match = /^([a-z-]+):([1-9]\d*)$/.exec(value);
    if (!match || !EVENT_KINDS.includes(match[1] as EventKind)) {
      throw new CutoverError('BAD_CRASH_SWITCH', `${CRASH_AFTER_ENV}=${value} is not <transition>:<n>`, { hint: `Transitions: ${EVENT_KINDS.join(', ')}` });
    }
    return new CrashSwitch(match[1] as EventKind, Number(match[2]), crash);
  }

  /** Runs `action` (a deploy the daemon makes itself) without counting its events, now or later. */
  ignoring<T extends { rolloutId: number | null }[]>(action: () => T): T {
    this.suspended += 1;
    try {
      const results = action();
      for (const r of results) if (r.rolloutId !== null) this.ignoredRollouts.add(r.rolloutId);
      return results;
    } finally {
      this.suspended -= 1;
    }
  }

  onEventStored(kind: string, rolloutId: number | null): void {
    if (kind !== this.kind || this.suspended > 0 || (rolloutId !== null && this.ignoredRollouts.has(rolloutId))) return;
    this.seen += 1;
    if (this.seen === this.occurrence) this.crash();
  }
}
