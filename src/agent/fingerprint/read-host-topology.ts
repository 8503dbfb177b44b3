/**
 * Reads the host from sysfs: CPU sockets, NUMA nodes, cores and SMT siblings, memory per node, GPUs and
 * SR-IOV NICs (from /sys/bus/pci with their numa_node). Takes the sysfs root as a parameter so tests run
 * it against a fake tree. Machines without NUMA in sysfs count as one node 0 holding every CPU.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { GpuDevice, HostTopology, SriovNic } from '../../inventory/index.ts';
import { buildTopology, type LogicalCpu, type NodeMemory, type TopologyPolicy } from './build-topology.ts';
import {
  gpuModelName,
  parseCpuList,
  parseCpuModel,
  parseHexId,
  parseNodeMemTotalMiB,
  parseNumaNode,
  parseSpeedGbps,
  pciKind,
} from './sysfs-parsers.ts';

export interface FingerprintOptions extends Partial<TopologyPolicy> {
  sysRoot?: string;
  procRoot?: string;
}

export interface HostFingerprint {
  topology: HostTopology;
  cpuModel: string;
}

const readText = (path: string) => readFile(path, 'utf8').catch(() => null);
const listDir = (path: string) => readdir(path).catch(() => [] as string[]);

async function readNodes(
  sysRoot: string,
  procRoot: string,
): Promise<{ memory: NodeMemory[]; nodeOfThread: Map<number, number> }> {
  const nodeDir = join(sysRoot, 'devices/system/node');
  const online = await readText(join(nodeDir, 'online'));
  const nodeOfThread = new Map<number, number>();
  if (online === null) {
    const meminfo = (await readText(join(procRoot, 'meminfo'))) ?? '';
    return { memory: [{ node: 0, memoryMiB: parseNodeMemTotalMiB(meminfo) }], nodeOfThread };
  }
  const memory: NodeMemory[] = [];
  for (const node of parseCpuList(online)) {
    memory.push({
      node,
      memoryMiB: parseNodeMemTotalMiB((await readText(join(nodeDir, `node${node}`, 'meminfo'))) ?? ''),
    });
    for (const thread of parseCpuList((await readText(join(nodeDir, `node${node}`, 'cpulist'))) ?? ''))
      nodeOfThread.set(thread, node);
  }
  return { memory, nodeOfThread };
}

async function readCpus(sysRoot: string, nodeOfThread: Map<number, number>): Promise<LogicalCpu[]> {
  const cpuDir = join(sysRoot, 'devices/system/cpu');
  const cpus: LogicalCpu[] = [];
  for (const thread of parseCpuList((await readText(join(cpuDir, 'online'))) ?? '0')) {
    const topology = join(cpuDir, `cpu${thread}`, 'topology');
    const packageId = Number.parseInt((await readText(join(topology, 'physical_package_id'))) ?? '0', 10);
    const coreId = Number.parseInt((await readText(join(topology, 'core_id'))) ?? String(thread), 10);
    cpus.push({
      thread,
      packageId: Number.isNaN(packageId) ? 0 : packageId,
      coreId: Number.isNaN(coreId) ? thread : coreId,
      node: nodeOfThread.get(thread) ?? 0,
    });
  }
  return cpus;
}

async function readPci(sysRoot: string): Promise<{ gpus: GpuDevice[]; nics: SriovNic[] }> {
  const pciDir = join(sysRoot, 'bus/pci/devices');
  const gpus: GpuDevice[] = [];
  const nics: SriovNic[] = [];
  for (const address of (await listDir(pciDir)).sort()) {
    const device = join(pciDir, address);
    const kind = pciKind(parseHexId(await readText(join(device, 'class'))));
    if (kind === 'other') continue;
    const numaNode = parseNumaNode(await readText(join(device, 'numa_node')));
    if (kind === 'gpu') {
      const vendor = parseHexId(await readText(join(device, 'vendor'))) ?? 0;
      const deviceId = parseHexId(await readText(join(device, 'device'))) ?? 0;
      const group = await readlink(join(device, 'iommu_group')).catch(() => null);
      gpus.push({
        pciAddress: address,
        model: gpuModelName(vendor, deviceId),
        numaNode,
        iommuGroup: group === null ? null : Number.parseInt(basename(group), 10),
      });
      continue;
    }
    const totalVfs = Number.parseInt((await readText(join(device, 'sriov_totalvfs'))) ?? '0', 10);
    if (!(totalVfs > 0)) continue; // only SR-IOV capable NICs are inventory
    const entries = await listDir(device);
    const name = (await listDir(join(device, 'net')))[0] ?? address;
    const vfs = [];
    for (const entry of entries) {
      const match = /^virtfn(\d+)$/.exec(entry);
      if (!match) continue;
      const target = await readlink(join(device, entry)).catch(() => null);
      if (target) vfs.push({ index: Number(match[1]), pciAddress: basename(target) });
    }
    vfs.sort((a, b) => a.index - b.index);
    const speedGbps = parseSpeedGbps(await readText(join(device, 'net', name, 'speed')));
    nics.push({ name, pciAddress: address, numaNode, speedGbps, vfs });
  }
  return { gpus, nics };
}

export async function readHostFingerprint(options: FingerprintOptions = {}): Promise<HostFingerprint> {
  const sysRoot = options.sysRoot ?? '/sys';
  const procRoot = options.procRoot ?? '/proc';
  const { memory, nodeOfThread } = await readNodes(sysRoot, procRoot);
  const cpus = await readCpus(sysRoot, nodeOfThread);
  const { gpus, nics } = await readPci(sysRoot);
  const topology = buildTopology(cpus, memory, gpus, nics, {
    reservedCoresPerNode: options.reservedCoresPerNode ?? 1,
    reservedMemoryMiBPerNode: options.reservedMemoryMiBPerNode ?? 1024,
    diskGiB: options.diskGiB ?? 0,
  });
  return { topology, cpuModel: parseCpuModel((await readText(join(procRoot, 'cpuinfo'))) ?? '') };
}

/** Just the topology (see readHostFingerprint). */
export async function readHostTopology(options: FingerprintOptions = {}): Promise<HostTopology> {
  return (await readHostFingerprint(options)).topology;
}
