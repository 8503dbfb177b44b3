/**
 * Why nothing fits, pure: every host of the region is judged by the filter list (the same one `decide`
 * runs) and counted against the first filter that rejects it; the largest size still available comes from
 * the hosts rejected only for capacity.
 */
import { formatMiB, plural, type FilterContext, type HostFilter } from './filters/index.ts';
import { freeCoresTotal, freeGpusTotal, freeMemoryMiBTotal, type HostState } from './host-state.ts';
import type { FilterRejection, PlacementFailure } from './types.ts';

export function explainFailure(
  regionHosts: readonly HostState[],
  context: FilterContext,
  filters: readonly HostFilter[],
): PlacementFailure {
  const { request, demand } = context;
  // Per filter position, the hosts it rejects first; the last slot counts hosts no filter rejects.
  const counts = new Int32Array(filters.length + 1);
  let largest: HostState | null = null;
  let largestGating = -1;
  for (let h = 0; h < regionHosts.length; h++) {
    const host = regionHosts[h];
    let rejecting = filters.length;
    for (let f = 0; f < filters.length; f++) {
      if (filters[f].rejects(host, context)) {
        rejecting = f;
        break;
      }
    }
    counts[rejecting]++;
    if (rejecting < filters.length && filters[rejecting].kind !== 'capacity') continue;
    const gating = demand.gpuModel === null ? freeCoresTotal(host) : freeGpusTotal(host, demand.gpuModel);
    if (
      largest === null ||
      gating > largestGating ||
      (gating === largestGating && freeCoresTotal(host) > freeCoresTotal(largest))
    ) {
      largest = host;
      largestGating = gating;
    }
  }
  const rejections: FilterRejection[] = filters
    .flatMap((filter, f) =>
      counts[f] > 0 ? [{ filter: filter.name, hosts: counts[f], reason: filter.reason(context) }] : [],
    )
    .sort((a, b) => b.hosts - a.hosts);
  const largestAvailable = largest
    ? {
        vcpus: freeCoresTotal(largest) * largest.threadsPerCore,
        memoryMiB: freeMemoryMiBTotal(largest),
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
  const reasons = rejections.map(
    (r, i) => `${i === 0 ? plural(r.hosts, 'host', 'hosts') : r.hosts} ${adjust(r.reason, r.hosts)}`,
  );
  const room =
    largest.vcpus > 0
      ? `; the largest still available is ${largest.vcpus} vCPUs with ${formatMiB(largest.memoryMiB)}${demand.gpuCount > 0 ? ` and ${plural(largest.gpus, 'GPU', 'GPUs')}` : ''}`
      : '';
  return `no host in ${where} has ${joinWords(wanted)} (${reasons.join(', ')})${room}`;
}

/**
 * A filter's reason is written for several hosts ("are draining", "lack 8 free cores", "already run …");
 * for one host its verb agrees: "is draining", "lacks 8 free cores", "already runs …".
 */
export function adjust(reason: string, hosts: number): string {
  if (hosts !== 1) return reason;
  const [, adverb = '', verb, rest] = /^((?:already|still|no longer) )?(\S+)(.*)$/s.exec(reason) ?? [];
  if (verb === undefined) return reason;
  const singular: Record<string, string> = { are: 'is', have: 'has', do: 'does', go: 'goes' };
  const modal = ['cannot', 'can', 'must', 'may', 'will', 'should'].includes(verb);
  const agreed = singular[verb] ?? (modal ? verb : /(s|sh|ch|x|z)$/.test(verb) ? `${verb}es` : `${verb}s`);
  return `${adverb}${agreed}${rest}`;
}

function joinWords(words: readonly string[]): string {
  if (words.length === 1) return words[0];
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
