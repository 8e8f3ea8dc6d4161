import type { ContainerEngine } from '../model/app-spec.js';
import type { AdoptedInstance, Runtime, StartRequest, StartedInstance, StopResult } from './runtime.js';
import { parseContainerIdentity } from './container/container-args.js';

/**
 * One `Runtime` for the fleet of local instances, whatever each runs as: a start with a
 * container spec goes to the container runtime, the rest to the process runtime; an adoption
 * or a stop goes where the recorded identity says it belongs.
 */
export class RuntimeSwitch implements Runtime {
  constructor(private readonly runtimes: { process: Runtime; container: Runtime }) {}

  start(request: StartRequest): Promise<StartedInstance> {
    return this.pick(request.container ? 'container:' : null).start(request);
  }

  adopt(instance: { pid: number; identity: string | null; port: number; logPath: string }): AdoptedInstance | null {
    return this.pick(instance.identity).adopt(instance);
  }

  async stopUnrecorded(instanceId: string): Promise<boolean> {
    if (await this.runtimes.process.stopUnrecorded(instanceId)) return true;
    return this.runtimes.container.stopUnrecorded(instanceId);
  }

  stop(pid: number, stopTimeoutMs: number, identity?: string | null): Promise<StopResult> {
    return this.pick(identity ?? null).stop(pid, stopTimeoutMs, identity);
  }

  async sweep(keepInstanceIds: ReadonlySet<string>, engines: readonly ContainerEngine[]): Promise<string[]> {
    return (await this.runtimes.container.sweep?.(keepInstanceIds, engines)) ?? [];
  }

  close(): void {
    this.runtimes.process.close();
    this.runtimes.container.close();
  }

  private pick(identity: string | null): Runtime {
    return identity === 'container:' || parseContainerIdentity(identity) ? this.runtimes.container : this.runtimes.process;
  }
}
