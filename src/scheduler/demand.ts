/** What a placement request asks of one host, in the units the fit functions count. */
import { invalid } from '../core/errors.ts';
import type { PlacementRequest } from './types.ts';

export interface Demand {
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  gpuModel: string | null;
  gpuCount: number;
  vfs: number;
}

export function demandOf(request: PlacementRequest): Demand {
  const positive = (value: number) => Number.isInteger(value) && value > 0;
  const natural = (value: number) => Number.isInteger(value) && value >= 0;
  if (!positive(request.vcpus)) throw invalid(`vcpus must be a positive integer, got ${request.vcpus}`);
  if (!positive(request.memoryMiB)) throw invalid(`memoryMiB must be a positive integer, got ${request.memoryMiB}`);
  if (!natural(request.diskGiB)) throw invalid(`diskGiB must be a non-negative integer, got ${request.diskGiB}`);
  if (!natural(request.gpuCount)) throw invalid(`gpuCount must be a non-negative integer, got ${request.gpuCount}`);
  if (!natural(request.sriovVfs)) throw invalid(`sriovVfs must be a non-negative integer, got ${request.sriovVfs}`);
  if (request.family === 'gpu' && (request.gpuCount === 0 || !request.gpuModel)) {
    throw invalid('a GPU product needs a GPU model and at least one GPU');
  }
  if (request.family === 'vps' && request.gpuCount > 0) throw invalid('a VPS product has no GPUs');
  return {
    vcpus: request.vcpus,
    memoryMiB: request.memoryMiB,
    diskGiB: request.diskGiB,
    gpuModel: request.family === 'gpu' ? request.gpuModel : null,
    gpuCount: request.family === 'gpu' ? request.gpuCount : 0,
    vfs: request.sriovVfs,
  };
}

/** Whole cores per server: a 1-vCPU server takes a whole core and its sibling stays idle. */
export function coresFor(vcpus: number, threadsPerCore: number): number {
  return Math.ceil(vcpus / threadsPerCore);
}
