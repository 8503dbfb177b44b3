import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Driver, InstanceSpec, ObservedInstance, ObservedPower, StopOptions } from '../driver.ts';

/**
 * The simulated hypervisor: instances that take realistic time to boot, shut down and reboot, without
 * running anything. Its instances outlive the agent (as QEMU processes would) when `stateFile` is set:
 * a restarted agent finds them where they were.
 */
export interface SimDelays {
  startMs: number;
  stopMs: number;
  forcedStopMs: number;
  rebootMs: number;
  destroyMs: number;
}

/** Boot and shutdown times of a small cloud VM on KVM. */
export const realisticSimDelays: SimDelays = { startMs: 1500, stopMs: 800, forcedStopMs: 100, rebootMs: 1200, destroyMs: 300 };

interface SimInstance {
  serverId: string;
  power: ObservedPower;
  rebootGeneration: number;
  vcpus: number;
  memoryMiB: number;
}

export interface SimDriverOptions {
  delays?: Partial<SimDelays>;
  /** Where instances persist across agent restarts; in memory only when absent. */
  stateFile?: string;
  /** Changes within this window are written to the state file together (default 100 ms). */
  persistDelayMs?: number;
  /** Boots of these images fail, to exercise the error path. */
  failingImages?: string[];
}

export function createSimDriver(options: SimDriverOptions = {}): Driver & { instanceCount(): number } {
  const delays: SimDelays = { ...realisticSimDelays, ...options.delays };
  const instances = new Map<string, SimInstance>();
  let closed = false;

  if (options.stateFile) {
    try {
      const saved = JSON.parse(readFileSync(options.stateFile, 'utf8')) as SimInstance[];
      for (const instance of saved) {
        // What was booting when the agent died has booted since; what was stopping has stopped.
        const power: ObservedPower = instance.power === 'starting' ? 'running' : instance.power === 'stopping' ? 'stopped' : instance.power;
        instances.set(instance.serverId, { ...instance, power });
      }
    } catch {
      // No state yet.
    }
  }

  // The state file is written asynchronously, changes of one window together: a simulated host, like a
  // real one, may lose the last instants before a crash, and the next reconcile repairs it.
  let writing: Promise<void> | null = null;
  let dirty = false;
  const writeNow = async () => {
    const file = options.stateFile!;
    while (dirty) {
      dirty = false;
      const temp = `${file}.tmp`;
      await writeFile(temp, JSON.stringify([...instances.values()]));
      await rename(temp, file);
    }
  };
  if (options.stateFile) mkdirSync(dirname(options.stateFile), { recursive: true });
  const persist = () => {
    if (!options.stateFile || closed) return;
    dirty = true;
    if (writing) return;
    writing = delay(options.persistDelayMs ?? 100)
      .then(writeNow)
      .catch(() => undefined)
      .finally(() => {
        writing = null;
        if (dirty && !closed) persist();
      });
  };
  const flush = () => {
    if (!options.stateFile || !dirty) return;
    dirty = false;
    const temp = `${options.stateFile}.tmp`;
    writeFileSync(temp, JSON.stringify([...instances.values()]));
    renameSync(temp, options.stateFile);
  };

  const set = (serverId: string, change: Partial<SimInstance>) => {
    const instance = instances.get(serverId);
    if (!instance) return;
    Object.assign(instance, change);
    persist();
  };

  return {
    name: 'sim',
    instanceCount: () => instances.size,

    async list(): Promise<ObservedInstance[]> {
      return [...instances.values()].map((i) => ({ serverId: i.serverId, power: i.power, rebootGeneration: i.rebootGeneration, ...(i.power === 'crashed' ? { detail: 'simulated boot failure' } : {}) }));
    },

    async start(spec: InstanceSpec, rebootGeneration: number) {
      const existing = instances.get(spec.serverId);
      if (existing && (existing.power === 'running' || existing.power === 'starting')) return;
      if (existing) set(spec.serverId, { power: 'starting' });
      else {
        instances.set(spec.serverId, { serverId: spec.serverId, power: 'starting', rebootGeneration, vcpus: spec.vcpus, memoryMiB: spec.memoryMiB });
        persist();
      }
      await delay(delays.startMs);
      if (instances.get(spec.serverId)?.power !== 'starting') return;
      if (options.failingImages?.includes(spec.image)) set(spec.serverId, { power: 'crashed' });
      else set(spec.serverId, { power: 'running', rebootGeneration: Math.max(rebootGeneration, instances.get(spec.serverId)!.rebootGeneration) });
    },

    async stop(serverId: string, stopOptions: StopOptions) {
      const instance = instances.get(serverId);
      if (!instance || instance.power === 'stopped' || instance.power === 'crashed') {
        if (instance?.power === 'crashed') set(serverId, { power: 'stopped' });
        return;
      }
      set(serverId, { power: 'stopping' });
      await delay(stopOptions.gracefulTimeoutMs <= 0 ? delays.forcedStopMs : Math.min(delays.stopMs, stopOptions.gracefulTimeoutMs));
      if (instances.get(serverId)?.power === 'stopping') set(serverId, { power: 'stopped' });
    },

    async reboot(serverId: string, rebootGeneration: number) {
      const instance = instances.get(serverId);
      if (!instance || instance.power !== 'running' || instance.rebootGeneration >= rebootGeneration) return;
      await delay(delays.rebootMs);
      if (instances.get(serverId)?.power === 'running') set(serverId, { rebootGeneration });
    },

    async destroy(serverId: string) {
      if (!instances.has(serverId)) return;
      await delay(delays.destroyMs);
      instances.delete(serverId);
      persist();
    },

    async close() {
      await writing;
      flush();
      closed = true;
    },
  };
}
