/**
 * The VMCloud catalog and fleet, from the product document (shared/seed): regions, products, images and
 * the hosts of each region. This is the one data file of the defaults; docs/catalog.md explains every
 * number. Sizes and prices are our choice (the seed gives none); money is integer euro cents.
 */
import type { HostShapeName } from '../inventory/index.ts';

import type { RegionStatus } from '../contract/index.ts';

export interface RegionDefinition {
  code: string;
  name: string;
  city: string;
  country: string;
  peering: string;
  peeringGbps: number | null;
  status: RegionStatus;
  opens: string | null;
  /** Where server addresses come from; private ranges for the simulated fleet, set per real region. */
  ipv4Pool: string;
}

export const defaultRegions: RegionDefinition[] = [
  {
    code: 'par1',
    name: 'Paris',
    city: 'Paris',
    country: 'FR',
    peering: 'France-IX',
    peeringGbps: 100,
    status: 'operational',
    opens: null,
    ipv4Pool: '10.11.0.0/16',
  },
  {
    code: 'fra1',
    name: 'Frankfurt',
    city: 'Frankfurt am Main',
    country: 'DE',
    peering: 'DE-CIX',
    peeringGbps: 100,
    status: 'operational',
    opens: null,
    ipv4Pool: '10.12.0.0/16',
  },
  {
    code: 'ams1',
    name: 'Amsterdam',
    city: 'Amsterdam',
    country: 'NL',
    peering: 'AMS-IX',
    peeringGbps: 100,
    status: 'operational',
    opens: null,
    ipv4Pool: '10.13.0.0/16',
  },
  {
    code: 'lon1',
    name: 'London',
    city: 'London',
    country: 'GB',
    peering: 'LINX',
    peeringGbps: 40,
    status: 'maintenance',
    opens: null,
    ipv4Pool: '10.14.0.0/16',
  },
  {
    code: 'mad1',
    name: 'Madrid',
    city: 'Madrid',
    country: 'ES',
    peering: 'ESPANIX',
    peeringGbps: null,
    status: 'planned',
    opens: '2025-Q2',
    ipv4Pool: '10.15.0.0/16',
  },
  {
    code: 'mil1',
    name: 'Milan',
    city: 'Milan',
    country: 'IT',
    peering: 'MIX',
    peeringGbps: null,
    status: 'planned',
    opens: '2025-Q3',
    ipv4Pool: '10.16.0.0/16',
  },
];

export interface ProductDefinition {
  code: string;
  name: string;
  family: 'vps' | 'gpu';
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  trafficTiB: number;
  gpuModel: string | null;
  gpuCount: number;
  priceHourlyCents: number;
  /** Monthly cap: a server never costs more than this in a calendar month. */
  priceMonthlyCents: number;
  regions: string[];
  /**
   * Servers get one SR-IOV virtual function of the host NIC on their NUMA node (passed through with
   * vfio-pci, beside the virtio NIC): line-rate networking for the largest VPS and the GPU products.
   * Optional in a definition (false when absent); docs/catalog.md says which products have it and why.
   */
  sriov?: boolean;
}

const GiB = 1024;
const vpsRegions = ['par1', 'fra1', 'ams1', 'lon1', 'mad1', 'mil1'];

export const defaultProducts: ProductDefinition[] = [
  {
    code: 'vps-nano',
    name: 'VPS-NANO',
    family: 'vps',
    vcpus: 1,
    memoryMiB: 2 * GiB,
    diskGiB: 25,
    trafficTiB: 1,
    gpuModel: null,
    gpuCount: 0,
    priceHourlyCents: 1,
    priceMonthlyCents: 499,
    regions: vpsRegions,
  },
  {
    code: 'vps-starter',
    name: 'VPS-STARTER',
    family: 'vps',
    vcpus: 2,
    memoryMiB: 4 * GiB,
    diskGiB: 50,
    trafficTiB: 2,
    gpuModel: null,
    gpuCount: 0,
    priceHourlyCents: 2,
    priceMonthlyCents: 999,
    regions: vpsRegions,
  },
  {
    code: 'vps-performance',
    name: 'VPS-PERFORMANCE',
    family: 'vps',
    vcpus: 4,
    memoryMiB: 16 * GiB,
    diskGiB: 160,
    trafficTiB: 5,
    gpuModel: null,
    gpuCount: 0,
    priceHourlyCents: 5,
    priceMonthlyCents: 2999,
    regions: vpsRegions,
  },
  {
    code: 'vps-business',
    name: 'VPS-BUSINESS',
    family: 'vps',
    vcpus: 8,
    memoryMiB: 32 * GiB,
    diskGiB: 320,
    trafficTiB: 10,
    gpuModel: null,
    gpuCount: 0,
    priceHourlyCents: 10,
    priceMonthlyCents: 5999,
    regions: vpsRegions,
  },
  {
    code: 'vps-enterprise-plus',
    name: 'VPS-ENTERPRISE+',
    family: 'vps',
    vcpus: 16,
    memoryMiB: 64 * GiB,
    diskGiB: 640,
    trafficTiB: 20,
    gpuModel: null,
    gpuCount: 0,
    priceHourlyCents: 20,
    priceMonthlyCents: 11999,
    regions: vpsRegions,
    sriov: true,
  },
  {
    code: 'gpu-t4',
    name: 'GPU-T4',
    family: 'gpu',
    vcpus: 8,
    memoryMiB: 48 * GiB,
    diskGiB: 400,
    trafficTiB: 10,
    gpuModel: 'nvidia-t4',
    gpuCount: 1,
    priceHourlyCents: 35,
    priceMonthlyCents: 21900,
    regions: ['par1', 'fra1', 'ams1', 'lon1'],
    sriov: true,
  },
  {
    code: 'gpu-rtx4090',
    name: 'GPU-RTX4090',
    family: 'gpu',
    vcpus: 16,
    memoryMiB: 80 * GiB,
    diskGiB: 800,
    trafficTiB: 10,
    gpuModel: 'nvidia-rtx4090',
    gpuCount: 1,
    priceHourlyCents: 79,
    priceMonthlyCents: 49900,
    regions: ['par1', 'fra1', 'ams1', 'mil1'],
    sriov: true,
  },
  {
    code: 'gpu-a100',
    name: 'GPU-A100',
    family: 'gpu',
    vcpus: 8,
    memoryMiB: 88 * GiB,
    diskGiB: 800,
    trafficTiB: 20,
    gpuModel: 'nvidia-a100-80g',
    gpuCount: 1,
    priceHourlyCents: 229,
    priceMonthlyCents: 149900,
    regions: ['par1', 'mad1'],
    sriov: true,
  },
];

export type ImageCategory = 'os' | 'app' | 'ai';

export interface ImageDefinition {
  slug: string;
  name: string;
  osFamily: string;
  osVersion: string;
  category: ImageCategory;
  requiresGpu: boolean;
  minDiskGiB: number;
}

export const defaultImages: ImageDefinition[] = [
  {
    slug: 'ubuntu-24.04',
    name: 'Ubuntu 24.04 LTS',
    osFamily: 'ubuntu',
    osVersion: '24.04',
    category: 'os',
    requiresGpu: false,
    minDiskGiB: 10,
  },
  {
    slug: 'ubuntu-22.04',
    name: 'Ubuntu 22.04 LTS',
    osFamily: 'ubuntu',
    osVersion: '22.04',
    category: 'os',
    requiresGpu: false,
    minDiskGiB: 10,
  },
  {
    slug: 'debian-12',
    name: 'Debian 12 (bookworm)',
    osFamily: 'debian',
    osVersion: '12',
    category: 'os',
    requiresGpu: false,
    minDiskGiB: 10,
  },
  {
    slug: 'rocky-9',
    name: 'Rocky Linux 9',
    osFamily: 'rocky',
    osVersion: '9',
    category: 'os',
    requiresGpu: false,
    minDiskGiB: 10,
  },
  {
    slug: 'almalinux-9',
    name: 'AlmaLinux 9',
    osFamily: 'almalinux',
    osVersion: '9',
    category: 'os',
    requiresGpu: false,
    minDiskGiB: 10,
  },
  {
    slug: 'docker-ce',
    name: 'Docker CE on Debian 12',
    osFamily: 'debian',
    osVersion: '12',
    category: 'app',
    requiresGpu: false,
    minDiskGiB: 20,
  },
  {
    slug: 'kubernetes-k3s',
    name: 'Kubernetes (k3s) on Ubuntu 24.04',
    osFamily: 'ubuntu',
    osVersion: '24.04',
    category: 'app',
    requiresGpu: false,
    minDiskGiB: 20,
  },
  {
    slug: 'wordpress',
    name: 'WordPress on Debian 12',
    osFamily: 'debian',
    osVersion: '12',
    category: 'app',
    requiresGpu: false,
    minDiskGiB: 20,
  },
  {
    slug: 'cuda-12',
    name: 'CUDA 12 on Ubuntu 24.04',
    osFamily: 'ubuntu',
    osVersion: '24.04',
    category: 'ai',
    requiresGpu: true,
    minDiskGiB: 50,
  },
  {
    slug: 'pytorch-2',
    name: 'PyTorch 2 + CUDA 12 on Ubuntu 24.04',
    osFamily: 'ubuntu',
    osVersion: '24.04',
    category: 'ai',
    requiresGpu: true,
    minDiskGiB: 80,
  },
  {
    slug: 'vmcloud-test',
    name: 'VMCloud test guest (cloud kernel + busybox, `npm run image:test`)',
    osFamily: 'busybox',
    osVersion: '1',
    category: 'os',
    requiresGpu: false,
    minDiskGiB: 1,
  },
  {
    slug: 'tensorflow-2',
    name: 'TensorFlow 2 + CUDA 12 on Ubuntu 24.04',
    osFamily: 'ubuntu',
    osVersion: '24.04',
    category: 'ai',
    requiresGpu: true,
    minDiskGiB: 80,
  },
];

export interface FleetEntry {
  region: string;
  shape: HostShapeName;
  count: number;
}

/**
 * The default fleet (seed: "Datacenters Opérationnels"). A standard host sells 120 threads (64 cores × 2
 * minus 2 cores per NUMA node for the hypervisor), so 5 hosts ≈ 600 vCPUs.
 */
export const defaultFleet: FleetEntry[] = [
  { region: 'par1', shape: 'std-7543', count: 5 },
  { region: 'par1', shape: 'gpu-a100x8', count: 1 },
  { region: 'par1', shape: 'gpu-rtx4090x4', count: 1 },
  { region: 'fra1', shape: 'std-7543', count: 7 },
  { region: 'fra1', shape: 'gpu-t4x4', count: 1 },
  { region: 'fra1', shape: 'gpu-t4x2', count: 1 },
  { region: 'fra1', shape: 'gpu-rtx4090x4', count: 1 },
  { region: 'fra1', shape: 'gpu-rtx4090x2', count: 1 },
  { region: 'ams1', shape: 'std-7543', count: 5 },
  { region: 'ams1', shape: 'gpu-rtx4090x4', count: 1 },
  { region: 'ams1', shape: 'gpu-t4x4', count: 1 },
  { region: 'lon1', shape: 'std-7543', count: 3 },
  { region: 'lon1', shape: 'gpu-t4x4', count: 1 },
  { region: 'mad1', shape: 'std-7543', count: 4 },
  { region: 'mad1', shape: 'gpu-a100x4', count: 1 },
  { region: 'mil1', shape: 'std-7543', count: 4 },
  { region: 'mil1', shape: 'gpu-rtx4090x4', count: 2 },
];
