/**
 * The SR-IOV VFs of a server as its host's topology names them (physical function and VF number), for the
 * desired state: the agent sets each VF up (MAC, VLAN, vfio-pci) before QEMU starts. Pure.
 */
import type { HostTopology, InstanceVf } from '../contract/index.ts';

/** The claimed VFs (PCI addresses) found in the topology, in claim order; an address it lacks is left out. */
export function vfDevicesOf(claimed: readonly string[], topology: Pick<HostTopology, 'nics'> | null): InstanceVf[] {
  if (claimed.length === 0 || !topology) return [];
  const byAddress = new Map<string, InstanceVf>();
  for (const nic of topology.nics ?? [])
    for (const vf of nic.vfs)
      byAddress.set(vf.pciAddress, { pciAddress: vf.pciAddress, pf: nic.name, vfIndex: vf.index });
  return claimed.flatMap((address) => byAddress.get(address) ?? []);
}
