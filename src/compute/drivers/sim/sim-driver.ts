import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { conflict, notFound, unavailable } from '../../../core/errors.ts';
import type {
  Driver,
  DriverVolume,
  InstanceSpec,
  InstanceUsage,
  ObservedInstance,
  ObservedPower,
  StopOptions,
} from '../driver.ts';
import { simUsageCounters } from './sim-usage.ts';

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
  /** Creating, growing, hot-plugging or unplugging a volume, and removing one. */
  volumeMs: number;
}

/** Boot and shutdown times of a small cloud VM on KVM. */
export const realisticSimDelays: SimDelays = {
  startMs: 1500,
  stopMs: 800,
  forcedStopMs: 100,
  rebootMs: 1200,
  destroyMs: 300,
  volumeMs: 200,
};

interface SimInstance {
  serverId: string;
  power: ObservedPower;
  rebootGeneration: number;
  vcpus: number;
  memoryMiB: number;
  /** The simulated disk: image it was made from, size (grows, never shrinks), rebuild generation. */
  image?: string;
  diskGiB?: number;
  diskGeneration?: number;
  /** The ISO the instance booted (or boots next). */
  iso?: string | null;
  /** Why it crashed. */
  detail?: string;
  /** The guest has no ACPI handling: a stop waits out its grace period and then forces it off. */
  ignoresPowerButton?: boolean;
  /** How its last stop ended. */
  lastStop?: 'graceful' | 'forced';
}

export interface SimDriverOptions {
  delays?: Partial<SimDelays>;
  /** Where instances persist across agent restarts; in memory only when absent. */
  stateFile?: string;
  /** Changes within this window are written to the state file together (default 100 ms). */
  persistDelayMs?: number;
  /** Boots of these images fail, to exercise the error path. */
  failingImages?: string[];
  /** Images this simulated host has no file of: `start` rejects as the QEMU driver does (`image_not_on_host`). */
  missingImages?: string[];
}

/** What a simulated instance's disk is, as a real host would show it. */
export interface SimDisk {
  image: string;
  sizeGiB: number;
  diskGeneration: number;
  iso: string | null;
}

export interface SimDriver extends Driver {
  instanceCount(): number;
  /** The volumes a simulated guest sees: plugged ones while it runs (what a real guest's lsblk shows). */
  guestVolumes(serverId: string): DriverVolume[];
  /** The simulated disk of an instance, or null. */
  disk(serverId: string): SimDisk | null;
  /** How the last stop of an instance ended: by the ACPI button (`graceful`) or `forced`; null if never stopped. */
  lastStop(serverId: string): 'graceful' | 'forced' | null;
  /** What happens to a real host's instances without the driver asking, for tests. */
  simulate: {
    /** The instance dies under the driver (as a QEMU killed with SIGKILL): reported `crashed`. */
    crash(serverId: string, detail?: string): void;
    /** The guest ignores the ACPI power button from now on: stops need the forced path. */
    ignorePowerButton(serverId: string): void;
  };
}

export function createSimDriver(options: SimDriverOptions = {}): SimDriver {
  const delays: SimDelays = { ...realisticSimDelays, ...options.delays };
  const instances = new Map<string, SimInstance>();
  const volumes = new Map<string, DriverVolume>();
  /** Simulated usage: when each instance was first seen running by `usage()`, and how long it ran before. */
  const runningSince = new Map<string, number>();
  const ranMs = new Map<string, number>();
  let closed = false;

  if (options.stateFile) {
    try {
      const state = JSON.parse(readFileSync(options.stateFile, 'utf8')) as
        SimInstance[] | { instances: SimInstance[]; volumes?: DriverVolume[] };
      const saved = Array.isArray(state) ? state : state.instances;
      for (const volume of Array.isArray(state) ? [] : (state.volumes ?? [])) volumes.set(volume.volumeId, volume);
      for (const instance of saved) {
        // What was booting when the agent died has booted since; what was stopping has stopped.
        const power: ObservedPower =
          instance.power === 'starting' ? 'running' : instance.power === 'stopping' ? 'stopped' : instance.power;
        instances.set(instance.serverId, { ...instance, power });
      }
    } catch {
      // No state yet.
    }
  }

  const stateText = () => JSON.stringify({ instances: [...instances.values()], volumes: [...volumes.values()] });

  // The state file is written asynchronously, changes of one window together: a simulated host, like a
  // real one, may lose the last instants before a crash, and the next reconcile repairs it.
  let writing: Promise<void> | null = null;
  let dirty = false;
  const writeNow = async () => {
    const file = options.stateFile!;
    while (dirty) {
      dirty = false;
      const temp = `${file}.tmp`;
      await writeFile(temp, stateText());
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
    writeFileSync(temp, stateText());
    renameSync(temp, options.stateFile);
  };

  /** The disk fields a spec asks for, given what the instance had: rebuilt on a newer generation, never shrunk. */
  const diskOf = (spec: InstanceSpec, existing: SimInstance | undefined): Partial<SimInstance> => {
    const rebuilt = (spec.diskGeneration ?? 0) > (existing?.diskGeneration ?? 0);
    return {
      image: rebuilt || !existing?.image ? spec.image : existing.image,
      diskGiB: Math.max(spec.diskGiB, existing?.diskGiB ?? 0),
      diskGeneration: Math.max(spec.diskGeneration ?? 0, existing?.diskGeneration ?? 0),
      iso: spec.iso ?? null,
      vcpus: spec.vcpus,
      memoryMiB: spec.memoryMiB,
    };
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

    async usage(): Promise<InstanceUsage[]> {
      // Running time as this process saw it (counters restart with the agent, as a QEMU process's would).
      const nowMs = Date.now();
      const out: InstanceUsage[] = [];
      for (const instance of instances.values()) {
        const since = runningSince.get(instance.serverId);
        const running = instance.power === 'running';
        if (running && since === undefined) runningSince.set(instance.serverId, nowMs);
        if (!running && since !== undefined) {
          ranMs.set(instance.serverId, (ranMs.get(instance.serverId) ?? 0) + nowMs - since);
          runningSince.delete(instance.serverId);
        }
        if (!running) continue;
        const seconds =
          ((ranMs.get(instance.serverId) ?? 0) + nowMs - (runningSince.get(instance.serverId) ?? nowMs)) / 1000;
        out.push({
          serverId: instance.serverId,
          ...simUsageCounters(instance.serverId, instance.vcpus, instance.memoryMiB, seconds),
        });
      }
      return out;
    },

    async list(): Promise<ObservedInstance[]> {
      return [...instances.values()].map((i) => ({
        serverId: i.serverId,
        power: i.power,
        rebootGeneration: i.rebootGeneration,
        ...(i.power === 'crashed' ? { detail: i.detail ?? 'simulated boot failure' } : {}),
      }));
    },

    async start(spec: InstanceSpec, rebootGeneration: number) {
      const existing = instances.get(spec.serverId);
      if (existing && (existing.power === 'running' || existing.power === 'starting')) return;
      if (!existing && options.missingImages?.includes(spec.image)) {
        throw unavailable(
          `image ${spec.image} has no file on this host; import it with \`vmcloud image import ${spec.image} FILE\``,
          {
            reason: 'image_not_on_host',
            details: { image: spec.image },
          },
        );
      }
      if (existing)
        set(spec.serverId, {
          power: 'starting',
          detail: undefined,
          ignoresPowerButton: undefined,
          ...diskOf(spec, existing),
        });
      else {
        instances.set(spec.serverId, {
          serverId: spec.serverId,
          power: 'starting',
          rebootGeneration,
          vcpus: spec.vcpus,
          memoryMiB: spec.memoryMiB,
          ...diskOf(spec, undefined),
        });
        persist();
      }
      await delay(delays.startMs);
      if (instances.get(spec.serverId)?.power !== 'starting') return;
      if (options.failingImages?.includes(spec.image))
        set(spec.serverId, { power: 'crashed', detail: 'simulated boot failure' });
      else
        set(spec.serverId, {
          power: 'running',
          rebootGeneration: Math.max(rebootGeneration, instances.get(spec.serverId)!.rebootGeneration),
        });
    },

    async stop(serverId: string, stopOptions: StopOptions) {
      const instance = instances.get(serverId);
      if (!instance || instance.power === 'stopped' || instance.power === 'crashed') {
        if (instance?.power === 'crashed') set(serverId, { power: 'stopped' });
        return;
      }
      set(serverId, { power: 'stopping' });
      // The guest powers off after stopMs if it heeds the button and the grace period allows; otherwise
      // the host waits out the grace period and forces it off.
      const graceful =
        stopOptions.gracefulTimeoutMs > 0 &&
        !instance.ignoresPowerButton &&
        delays.stopMs <= stopOptions.gracefulTimeoutMs;
      await delay(graceful ? delays.stopMs : Math.max(0, stopOptions.gracefulTimeoutMs) + delays.forcedStopMs);
      if (instances.get(serverId)?.power === 'stopping')
        set(serverId, { power: 'stopped', lastStop: graceful ? 'graceful' : 'forced' });
    },

    async reboot(serverId: string, rebootGeneration: number, spec?: InstanceSpec) {
      const instance = instances.get(serverId);
      if (!instance || instance.power !== 'running' || instance.rebootGeneration >= rebootGeneration) return;
      await delay(delays.rebootMs);
      // With a spec, the reboot applies it: a rebuilt disk, another ISO.
      if (instances.get(serverId)?.power === 'running')
        set(serverId, { rebootGeneration, ...(spec ? diskOf(spec, instance) : {}) });
    },

    async destroy(serverId: string) {
      if (!instances.has(serverId)) return;
      await delay(delays.destroyMs);
      instances.delete(serverId);
      for (const volume of volumes.values()) if (volume.serverId === serverId) volume.serverId = null;
      persist();
    },

    async listVolumes() {
      return [...volumes.values()].map((v) => ({ ...v }));
    },

    // A source (snapshot or backup) is not read: a simulated host stores no data, it records the size.
    async createVolume(volumeId, sizeGiB) {
      if (volumes.has(volumeId)) return;
      await delay(delays.volumeMs);
      if (!volumes.has(volumeId)) volumes.set(volumeId, { volumeId, sizeGiB, serverId: null });
      persist();
    },

    async resizeVolume(volumeId, sizeGiB) {
      const volume = volumes.get(volumeId);
      if (!volume) throw notFound('volume', volumeId);
      if (sizeGiB <= volume.sizeGiB) return;
      await delay(delays.volumeMs);
      volume.sizeGiB = Math.max(volume.sizeGiB, sizeGiB);
      persist();
    },

    async attachVolume(volumeId, serverId) {
      const volume = volumes.get(volumeId);
      if (!volume) throw notFound('volume', volumeId);
      if (volume.serverId === serverId) return;
      if (volume.serverId !== null)
        throw conflict(`volume ${volumeId} is attached to ${volume.serverId}`, { reason: 'volume_attached' });
      const instance = instances.get(serverId);
      if (!instance)
        throw unavailable(`no instance ${serverId} on this host to attach ${volumeId} to`, { reason: 'no_instance' });
      // A running guest gets it hot-plugged; a stopped one at its next start.
      if (instance.power === 'running') await delay(delays.volumeMs);
      volume.serverId = serverId;
      persist();
    },

    async detachVolume(volumeId) {
      const volume = volumes.get(volumeId);
      if (!volume || volume.serverId === null) return;
      // A running guest is asked to release the device, and takes its time.
      if (instances.get(volume.serverId)?.power === 'running') await delay(delays.volumeMs);
      volume.serverId = null;
      persist();
    },

    async deleteVolume(volumeId) {
      const volume = volumes.get(volumeId);
      if (!volume) return;
      if (volume.serverId !== null)
        throw conflict(`volume ${volumeId} is attached to ${volume.serverId}; detach it first`, {
          reason: 'volume_attached',
        });
      await delay(delays.volumeMs);
      volumes.delete(volumeId);
      persist();
    },

    guestVolumes(serverId) {
      if (instances.get(serverId)?.power !== 'running') return [];
      return [...volumes.values()].filter((v) => v.serverId === serverId).map((v) => ({ ...v }));
    },

    async close() {
      await writing;
      flush();
      closed = true;
    },

    lastStop: (serverId) => instances.get(serverId)?.lastStop ?? null,

    disk(serverId) {
      const instance = instances.get(serverId);
      if (!instance) return null;
      return {
        image: instance.image ?? '',
        sizeGiB: instance.diskGiB ?? 0,
        diskGeneration: instance.diskGeneration ?? 0,
        iso: instance.iso ?? null,
      };
    },

    simulate: {
      crash(serverId, detail = 'simulated crash: the hypervisor process was killed') {
        if (instances.has(serverId)) set(serverId, { power: 'crashed', detail });
      },
      ignorePowerButton(serverId) {
        if (instances.has(serverId)) set(serverId, { ignoresPowerButton: true });
      },
    },
  };
}
