/**
 * The metrics of a `vmcloud agent` (its `--metrics-listen` address): servers by state, how long driver
 * operations take, each server's CPU time, memory, disk and network counters (the driver's `usage()`:
 * QEMU from `/proc`, QMP and tap counters; the sim driver its simulated figures), and the host's CPU steal.
 * Per-server series (label `server_id`) live here only, never on the control plane.
 */
import { readFile } from 'node:fs/promises';
import { createMetricsRegistry, Histogram, readAtScrape, sharedRead, type Logger } from '../core/index.ts';
import type { Driver, InstanceUsage } from '../compute/index.ts';

/** Driver methods timed by `vmcloud_agent_driver_operation_duration_seconds`. */
const timedOperations = [
  'list',
  'start',
  'stop',
  'reboot',
  'destroy',
  'createVolume',
  'resizeVolume',
  'attachVolume',
  'detachVolume',
  'deleteVolume',
  'syncPrivateNics',
] as const;

/** USER_HZ: ticks per second of /proc/stat. */
const userHz = 100;

/** Steal time of all CPUs from `/proc/stat` (its first `cpu` line, 8th value), in seconds. */
export function parseCpuStealSeconds(procStat: string): number | null {
  const line = procStat.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const steal = Number(line.trim().split(/\s+/)[8]);
  return Number.isFinite(steal) ? steal / userHz : null;
}

export interface AgentMetricsOptions {
  /** The driver once the host has registered (null before). */
  driver: () => Driver | null;
  log: Logger;
  host: { id: string; name: string; region: string; driver: string; version: string };
  /** Where /proc/stat is read (tests: a file). */
  procStatPath?: string;
}

export function createAgentMetrics(options: AgentMetricsOptions) {
  const registry = createMetricsRegistry();
  const { log } = options;
  const operationDuration = new Histogram({
    name: 'vmcloud_agent_driver_operation_duration_seconds',
    help: 'Driver operations of this host, by operation and outcome (ok, error).',
    labelNames: ['operation', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [registry],
  });

  readAtScrape(registry, {
    name: 'vmcloud_agent_info',
    help: 'This agent: its host id, name, region, driver and version (value 1).',
    type: 'gauge',
    labelNames: ['host_id', 'host', 'region', 'driver', 'version'],
    read: async () => [
      {
        labels: {
          host_id: options.host.id,
          host: options.host.name,
          region: options.host.region,
          driver: options.host.driver,
          version: options.host.version,
        },
        value: 1,
      },
    ],
  });
  readAtScrape(registry, {
    name: 'vmcloud_agent_servers',
    help: 'Instances on this host by observed state (running, stopped, starting, stopping, crashed…).',
    type: 'gauge',
    labelNames: ['state'],
    log,
    read: async () => {
      const driver = options.driver();
      if (!driver) return [];
      const counts = new Map<string, number>();
      for (const instance of await driver.list()) counts.set(instance.power, (counts.get(instance.power) ?? 0) + 1);
      return [...counts].map(([state, value]) => ({ labels: { state }, value }));
    },
  });

  const usage = sharedRead(async (): Promise<InstanceUsage[]> => (await options.driver()?.usage?.()) ?? []);
  const perServer = (name: string, help: string, type: 'gauge' | 'counter', pick: (u: InstanceUsage) => number) =>
    readAtScrape(registry, {
      name,
      help,
      type,
      labelNames: ['server_id'],
      log,
      read: async () => (await usage()).map((u) => ({ labels: { server_id: u.serverId }, value: pick(u) })),
    });
  perServer(
    'vmcloud_server_cpu_seconds_total',
    'CPU time the server used (its QEMU process), seconds.',
    'counter',
    (u) => u.cpuSeconds,
  );
  perServer(
    'vmcloud_server_memory_bytes',
    'Memory the server holds on the host (resident), bytes.',
    'gauge',
    (u) => u.memoryBytes,
  );
  perServer(
    'vmcloud_server_disk_read_bytes_total',
    'Bytes the server read from its disks.',
    'counter',
    (u) => u.diskReadBytes,
  );
  perServer(
    'vmcloud_server_disk_written_bytes_total',
    'Bytes the server wrote to its disks.',
    'counter',
    (u) => u.diskWriteBytes,
  );
  perServer(
    'vmcloud_server_disk_reads_completed_total',
    'Read operations the server completed.',
    'counter',
    (u) => u.diskReadOps,
  );
  perServer(
    'vmcloud_server_disk_writes_completed_total',
    'Write operations the server completed.',
    'counter',
    (u) => u.diskWriteOps,
  );
  perServer(
    'vmcloud_server_network_receive_bytes_total',
    'Bytes the server received on its public NIC (its tap).',
    'counter',
    (u) => u.networkReceiveBytes,
  );
  perServer(
    'vmcloud_server_network_transmit_bytes_total',
    'Bytes the server sent on its public NIC (its tap).',
    'counter',
    (u) => u.networkTransmitBytes,
  );
  readAtScrape(registry, {
    name: 'vmcloud_host_cpu_steal_seconds_total',
    help: "CPU time this host's CPUs spent waiting for the hypervisor under it (steal, /proc/stat), seconds.",
    type: 'counter',
    labelNames: [],
    log,
    read: async () => {
      const text = await readFile(options.procStatPath ?? '/proc/stat', 'utf8').catch(() => '');
      const steal = parseCpuStealSeconds(text);
      return steal === null ? [] : [{ labels: {}, value: steal }];
    },
  });

  return {
    registry,
    render: () => registry.metrics(),
    /** The driver with its operations timed (every other method passes through untouched). */
    instrument<D extends Driver>(driver: D): D {
      const timed = new Set<string>(timedOperations);
      return new Proxy(driver, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof property !== 'string' || !timed.has(property) || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            const started = performance.now();
            try {
              const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
              operationDuration.observe({ operation: property, outcome: 'ok' }, (performance.now() - started) / 1000);
              return result;
            } catch (error) {
              operationDuration.observe(
                { operation: property, outcome: 'error' },
                (performance.now() - started) / 1000,
              );
              throw error;
            }
          };
        },
      });
    },
  };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
