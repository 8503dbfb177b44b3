/**
 * What a simulated server uses: CPU and disk I/O that look like a real fleet's — a per-server profile
 * (most servers idle along, a few busy), a diurnal curve (quiet at 04:00 UTC, busiest around 20:00) and
 * minute-to-minute noise. Deterministic: the same server and minute give the same figures on every
 * replica and in every test. Pure. The sim driver's counters and the customer metrics API
 * (`GET /v1/servers/{id}/metrics` on a simulated host) both read it; both say `simulated`.
 */

/** A 32-bit hash of the parts (FNV-1a, then a murmur finaliser): the model's only randomness. */
function hash32(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${part}\u0000`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const uniform = (...parts: Array<string | number>) => hash32(...parts) / 2 ** 32;

export interface SimUsageProfile {
  /** Mean share of its vCPUs a server keeps busy (0–1). */
  cpuShare: number;
  readIops: number;
  writeIops: number;
  /** Bytes per operation. */
  readBlockBytes: number;
  writeBlockBytes: number;
  /** Share of its memory the guest has touched (what the host sees resident). */
  memoryShare: number;
  /** Mean network rates, bytes per second (the traffic domain models the sim fleet's billed traffic). */
  receiveBytesPerSecond: number;
  transmitBytesPerSecond: number;
}

/** A server's profile: 10 % busy servers (40–90 % CPU), the rest 1–15 %; disk I/O roughly follows CPU. */
export function simUsageProfile(serverId: string): SimUsageProfile {
  const busy = uniform(serverId, 'busy') < 0.1;
  const cpuShare = busy ? 0.4 + 0.5 * uniform(serverId, 'cpu') : 0.01 + 0.14 * uniform(serverId, 'cpu');
  const io = 5 + 400 * cpuShare * (0.5 + uniform(serverId, 'io'));
  return {
    cpuShare,
    readIops: io * (0.3 + 0.4 * uniform(serverId, 'read')),
    writeIops: io * (0.2 + 0.3 * uniform(serverId, 'write')),
    readBlockBytes: 4096 * 2 ** Math.floor(4 * uniform(serverId, 'rbs')),
    writeBlockBytes: 4096 * 2 ** Math.floor(3 * uniform(serverId, 'wbs')),
    memoryShare: 0.35 + 0.5 * uniform(serverId, 'mem'),
    receiveBytesPerSecond: 2e4 * Math.pow(50, uniform(serverId, 'rx')),
    transmitBytesPerSecond: 5e4 * Math.pow(50, uniform(serverId, 'tx')),
  };
}

/** The diurnal factor at a time: 0.4 at 04:00 UTC up to 1.6 at 20:00 (mean 1). */
export function diurnal(atMs: number): number {
  const hour = (atMs / 3_600_000) % 24;
  return 1 - 0.6 * Math.cos(((hour - 20) / 24) * 2 * Math.PI);
}

export interface SimUsageRates {
  /** Percent of the server's vCPUs (100 per vCPU, Hetzner's convention). */
  cpuPercent: number;
  readIops: number;
  writeIops: number;
  readBytesPerSecond: number;
  writeBytesPerSecond: number;
}

/** The rates of one minute (the minute containing `atMs`). */
export function simUsageRates(serverId: string, vcpus: number, atMs: number): SimUsageRates {
  const profile = simUsageProfile(serverId);
  const minute = Math.floor(atMs / 60_000);
  const factor = diurnal(minute * 60_000) * (0.7 + 0.6 * uniform(serverId, minute, 'noise'));
  const cpuPercent = Math.min(100 * vcpus, 100 * vcpus * profile.cpuShare * factor);
  const readIops = profile.readIops * factor;
  const writeIops = profile.writeIops * factor;
  return {
    cpuPercent,
    readIops,
    writeIops,
    readBytesPerSecond: readIops * profile.readBlockBytes,
    writeBytesPerSecond: writeIops * profile.writeBlockBytes,
  };
}

/**
 * Counters of a simulated instance after `runningSeconds` of running (the profile's mean rates): what its
 * agent exports as `vmcloud_server_*_total`.
 */
export function simUsageCounters(serverId: string, vcpus: number, memoryMiB: number, runningSeconds: number) {
  const p = simUsageProfile(serverId);
  return {
    cpuSeconds: runningSeconds * vcpus * p.cpuShare,
    memoryBytes: runningSeconds > 0 ? Math.round(memoryMiB * 1024 * 1024 * p.memoryShare) : 0,
    diskReadBytes: Math.round(runningSeconds * p.readIops * p.readBlockBytes),
    diskWriteBytes: Math.round(runningSeconds * p.writeIops * p.writeBlockBytes),
    diskReadOps: Math.round(runningSeconds * p.readIops),
    diskWriteOps: Math.round(runningSeconds * p.writeIops),
    networkReceiveBytes: Math.round(runningSeconds * p.receiveBytesPerSecond),
    networkTransmitBytes: Math.round(runningSeconds * p.transmitBytesPerSecond),
  };
}
