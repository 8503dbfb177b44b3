/**
 * The hardware model of a hypervisor host as its agent reports it at registration: sockets → NUMA nodes
 * → cores → sibling threads, memory per node, GPUs and SR-IOV NICs with their node, and the reserve the
 * hypervisor keeps. Every count is bounded: a host cannot make the control plane allocate without limit.
 * (The agent protocol keeps the camelCase of the agent's own model.)
 */
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';

export const topologyLimits = {
  sockets: 16,
  numaNodes: 64,
  coresPerNode: 512,
  threadsPerCore: 8,
  threads: 1024,
  gpus: 64,
  nics: 32,
  vfsPerNic: 256,
  memoryMiBPerNode: 64 * 1024 * 1024,
  diskGiB: 10_000_000,
} as const;

const threadId = Type.Integer({ minimum: 0, maximum: topologyLimits.threads * 4 });
export const pciAddressPattern = '^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$';
const PciAddress = Type.String({ pattern: pciAddressPattern, description: 'e.g. 0000:41:00.0' });

export const CoreTopology = Type.Object(
  {
    id: Type.Integer({ minimum: 0, maximum: topologyLimits.threads * 4 }),
    threads: Type.Array(threadId, { minItems: 1, maxItems: topologyLimits.threadsPerCore }),
  },
  { additionalProperties: false },
);
export type CoreTopology = Static<typeof CoreTopology>;

export const NumaNodeTopology = Type.Object(
  {
    id: Type.Integer({ minimum: 0, maximum: 1023 }),
    memoryMiB: Type.Integer({ minimum: 0, maximum: topologyLimits.memoryMiBPerNode }),
    cores: Type.Array(CoreTopology, { maxItems: topologyLimits.coresPerNode }),
  },
  { additionalProperties: false },
);
export type NumaNodeTopology = Static<typeof NumaNodeTopology>;

export const GpuDevice = Type.Object(
  {
    pciAddress: PciAddress,
    model: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 ._+-]+$' }),
    numaNode: Type.Integer({ minimum: 0, maximum: 1023 }),
    iommuGroup: Nullable(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
export type GpuDevice = Static<typeof GpuDevice>;

export const SriovVf = Type.Object(
  { index: Type.Integer({ minimum: 0, maximum: 4095 }), pciAddress: PciAddress },
  { additionalProperties: false },
);
export type SriovVf = Static<typeof SriovVf>;

export const SriovNic = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 15, pattern: '^[A-Za-z0-9._-]+$' }),
    pciAddress: PciAddress,
    numaNode: Type.Integer({ minimum: 0, maximum: 1023 }),
    speedGbps: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    vfs: Type.Array(SriovVf, { maxItems: topologyLimits.vfsPerNic }),
  },
  { additionalProperties: false },
);
export type SriovNic = Static<typeof SriovNic>;

export const HostTopology = Type.Object(
  {
    sockets: Type.Integer({ minimum: 1, maximum: topologyLimits.sockets }),
    numaNodes: Type.Array(NumaNodeTopology, { minItems: 1, maxItems: topologyLimits.numaNodes }),
    reservedThreads: Type.Array(threadId, { maxItems: topologyLimits.threads }),
    reservedMemoryMiBPerNode: Type.Integer({ minimum: 0, maximum: topologyLimits.memoryMiBPerNode }),
    diskGiB: Type.Integer({ minimum: 0, maximum: topologyLimits.diskGiB }),
    gpus: Type.Array(GpuDevice, { maxItems: topologyLimits.gpus }),
    nics: Type.Array(SriovNic, { maxItems: topologyLimits.nics }),
  },
  { additionalProperties: false },
);
export type HostTopology = Static<typeof HostTopology>;
