/**
 * Why nothing fits, pure: every host of the region is judged by the pipeline and counted against the first
 * filter that rejects it; the largest size still available comes from the hosts that only lack capacity.
 */
import { formatMiB, pipeline, plural, type FilterContext } from './filters/index.ts';
import { freeCoresTotal, freeGpusTotal, type HostState } from './host-state.ts';
import type { FilterRejection, PlacementFailure } from './types.ts';

const capacityFilters = new Set(['gpu_capacity', 'cores', 'memory', 'disk', 'sriov', 'numa_fit']);

export function explainFailure(regionHosts: readonly HostState[], context: FilterContext): PlacementFailure {
  const { request, demand } = context;
  const counts = new Map<string, number>();
  let largest: HostState | null = null;
  const gating = (host: HostState) => (demand.gpuModel === null ? freeCoresTotal(host) : freeGpusTotal(host, demand.gpuModel));
  for (const host of regionHosts) {
    const rejecting = pipeline.find((filter) => filter.rejects(host, context));
    const name = rejecting?.name ?? 'none';
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (rejecting && !capacityFilters.has(rejecting.name)) continue;
    if (!largest || gating(host) > gating(largest) || (gating(host) === gating(largest) && freeCoresTotal(host) > freeCoresTotal(largest))) {
      largest = host;
    }
  }
  const rejections: FilterRejection[] = pipeline
    .filter((filter) => counts.has(filter.name))
    .map((filter) => ({ filter: filter.name, hosts: counts.get(filter.name) as number, reason: filter.reason(context) }))
    .sort((a, b) => b.hosts - a.hosts);
  const largestAvailable = largest
    ? {
        vcpus: freeCoresTotal(largest) * largest.threadsPerCore,
        memoryMiB: largest.nodes.reduce((sum, node) => sum + node.freeMemoryMiB, 0),
        gpus: demand.gpuModel === null ? 0 : freeGpusTotal(largest, demand.gpuModel),
      }
    : { vcpus: 0, memoryMiB: 0, gpus: 0 };
  return {
    region: request.region,
    hostsConsidered: regionHosts.length,
    rejections,
    largestAvailable,
    message: failureMessage(request.region, context, rejections, largestAvailable, regionHosts.length),
  };
}

export function failureMessage(
  region: string,
  context: FilterContext,
  rejections: readonly FilterRejection[],
  largest: PlacementFailure['largestAvailable'],
  hostCount: number,
): string {
  const { demand } = context;
  const where = region.toUpperCase();
  if (hostCount === 0) return `no host in ${where}: the region has no hosts`;
  const wanted = [
    `${plural(context.coresNeeded, 'free core', 'free cores')} (${demand.vcpus} vCPUs)`,
    `${formatMiB(demand.memoryMiB)} of memory`,
  ];
  if (demand.gpuCount > 0) wanted.push(plural(demand.gpuCount, `${demand.gpuModel} GPU`, `${demand.gpuModel} GPUs`));
  if (demand.vfs > 0) wanted.push(plural(demand.vfs, 'SR-IOV VF', 'SR-IOV VFs'));
  const reasons = rejections.map((r, i) => `${i === 0 ? plural(r.hosts, 'host', 'hosts') : r.hosts} ${adjust(r.reason, r.hosts)}`);
  const room =
    largest.vcpus > 0
      ? `; the largest still available is ${largest.vcpus} vCPUs with ${formatMiB(largest.memoryMiB)}${demand.gpuCount > 0 ? ` and ${plural(largest.gpus, 'GPU', 'GPUs')}` : ''}`
      : '';
  return `no host in ${where} has ${joinWords(wanted)} (${reasons.join(', ')})${room}`;
}

/** "are draining" → "is draining" for one host; "lack" → "lacks". */
function adjust(reason: string, hosts: number): string {
  if (hosts !== 1) return reason;
  return reason
    .replace(/^are /, 'is ')
    .replace(/^lack /, 'lacks ')
    .replace(/^have /, 'has ')
    .replace(/^cannot /, 'cannot ')
    .replace(/^already run /, 'already runs ');
}

function joinWords(words: readonly string[]): string {
  if (words.length === 1) return words[0];
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
