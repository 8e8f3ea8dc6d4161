import { CutoverError } from '../../errors.js';
import type { Slot } from './haproxy-slots.js';
import type { RuntimeApi } from './runtime-api.js';

/**
 * What HAProxy holds, as far as the router knows, and the runtime API commands that change a
 * server or a map only where it differs. `forget()` after a reload or restart: the new worker
 * holds what its config says, so everything is pushed once more.
 */
export class RuntimeSync {
  /** `backend/server` → state key. */
  private readonly pushedServers = new Map<string, string>();
  /** Map file → content key. */
  private readonly pushedMaps = new Map<string, string>();

  constructor(private readonly api: RuntimeApi) {}

  forget(): void {
    this.pushedServers.clear();
    this.pushedMaps.clear();
  }

  async pushSlot(slot: Slot): Promise<void> {
    const key = `${slot.backend}/${slot.server}`;
    const wanted = `${slot.host}:${slot.port}|${slot.weight}|${slot.state}`;
    const known = this.pushedServers.get(key);
    if (known === wanted) return;
    const commands: string[] = [];
    if (known === undefined || known.split('|')[0] !== `${slot.host}:${slot.port}`) commands.push(`set server ${key} addr ${slot.host} port ${slot.port}`);
    if (slot.state === 'ready') commands.push(`set server ${key} weight ${slot.weight}`);
    commands.push(`set server ${key} state ${slot.state}`);
    const answer = await this.api.send(commands.join(';'));
    const problems = answer.split('\n').filter((l) => l.trim() !== '' && !/changed from|no need to change/i.test(l));
    if (problems.length > 0) {
      this.pushedServers.delete(key);
      throw new CutoverError('HAPROXY_COMMAND_FAILED', `HAProxy refused "${commands.join('; ')}": ${problems.join(' ')}`);
    }
    this.pushedServers.set(key, wanted);
  }

  /** Replaces a loaded map's entries (`prepare map`/`commit map`) unless it holds them already. */
  async pushMap(file: string, entries: [string, string][]): Promise<void> {
    const content = JSON.stringify(entries);
    if (this.pushedMaps.get(file) === content) return;
    await this.api.replaceMap(file, entries);
    this.pushedMaps.set(file, content);
  }
}
