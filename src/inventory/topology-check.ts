/**
 * What the topology schema cannot say, checked before a host's topology is stored or used: every thread
 * on exactly one core of one NUMA node, unique ids and PCI addresses, devices on nodes that exist, a
 * reserve that exists and fits. Pure; a bad topology is refused at registration and quarantined at start.
 */
import type { FieldProblem } from '../core/index.ts';
import { topologyLimits, type HostTopology } from '../contract/topology.ts';

export function topologyProblems(topology: HostTopology): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field: `topology.${field}`, message });
  const nodeIds = new Set<number>();
  const coreIds = new Set<number>();
  const threads = new Set<number>();
  topology.numaNodes.forEach((node, n) => {
    if (nodeIds.has(node.id)) problem(`numaNodes[${n}].id`, `NUMA node ${node.id} appears twice`);
    nodeIds.add(node.id);
    if (node.memoryMiB < topology.reservedMemoryMiBPerNode) {
      problem(`numaNodes[${n}].memoryMiB`, `less than the reserve of ${topology.reservedMemoryMiBPerNode} MiB`);
    }
    node.cores.forEach((core, c) => {
      if (coreIds.has(core.id)) problem(`numaNodes[${n}].cores[${c}].id`, `core ${core.id} appears twice`);
      coreIds.add(core.id);
      for (const thread of core.threads) {
        if (threads.has(thread)) problem(`numaNodes[${n}].cores[${c}].threads`, `thread ${thread} is on two cores`);
        threads.add(thread);
      }
    });
  });
  if (threads.size > topologyLimits.threads) problem('numaNodes', `more than ${topologyLimits.threads} threads`);
  if (threads.size === 0) problem('numaNodes', 'no thread at all');
  topology.reservedThreads.forEach((thread, i) => {
    if (!threads.has(thread)) problem(`reservedThreads[${i}]`, `thread ${thread} does not exist`);
  });
  const pci = new Set<string>();
  const claimPci = (field: string, address: string) => {
    const key = address.toLowerCase();
    if (pci.has(key)) problem(field, `PCI address ${address} appears twice`);
    pci.add(key);
  };
  topology.gpus.forEach((gpu, g) => {
    if (!nodeIds.has(gpu.numaNode)) problem(`gpus[${g}].numaNode`, `NUMA node ${gpu.numaNode} does not exist`);
    claimPci(`gpus[${g}].pciAddress`, gpu.pciAddress);
  });
  topology.nics.forEach((nic, i) => {
    if (!nodeIds.has(nic.numaNode)) problem(`nics[${i}].numaNode`, `NUMA node ${nic.numaNode} does not exist`);
    claimPci(`nics[${i}].pciAddress`, nic.pciAddress);
    nic.vfs.forEach((vf, v) => claimPci(`nics[${i}].vfs[${v}].pciAddress`, vf.pciAddress));
  });
  return problems;
}
