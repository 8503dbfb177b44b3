/**
 * Fits a spec to the host it lands on: claimed NUMA nodes the host doesn't have are dropped with a warning
 * (QEMU refuses `host-nodes` that don't exist). Claimed threads are handled by the pinning plan.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceSpec } from '../driver.ts';
import { parseCpuList } from './pinning.ts';

export interface HostCpus {
  /** Online host thread (logical CPU) ids. */
  threads: number[];
  /** Online NUMA node ids. */
  numaNodes: number[];
}

export function fitSpecToHost(spec: InstanceSpec, host: HostCpus): { spec: InstanceSpec; warnings: string[] } {
  const online = new Set(host.numaNodes);
  const missing = spec.numaNodes.filter((node) => !online.has(node));
  if (missing.length === 0) return { spec, warnings: [] };
  const numaNodes = spec.numaNodes.filter((node) => online.has(node));
  return {
    spec: { ...spec, numaNodes },
    warnings: [
      `claimed NUMA node(s) ${missing.join(',')} do not exist on this host (online: ${host.numaNodes.join(',')}); ` +
        (numaNodes.length > 0 ? `memory bound to ${numaNodes.join(',')} only` : 'memory left unbound'),
    ],
  };
}

export async function readHostCpus(sysRoot = '/sys'): Promise<HostCpus> {
  const read = (path: string) => readFile(join(sysRoot, path), 'utf8').catch(() => null);
  const threads = parseCpuList((await read('devices/system/cpu/online')) ?? '0');
  const nodes = await read('devices/system/node/online');
  return { threads, numaNodes: nodes === null ? [0] : parseCpuList(nodes) };
}
