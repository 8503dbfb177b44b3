/**
 * The filter list is the one definition: for random fleets (states, pools, claims, spread members, busy
 * hosts) and a random extra filter inserted anywhere in the list, `decide` picks a host that every filter
 * passes, or finds none exactly when `explain` counts every host of the region against some filter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { coresFor, type Demand } from './demand.ts';
import { createFilterPlan, decide, nodeFits } from './decide.ts';
import { adjust, explainFailure } from './explain.ts';
import { defaultFilters, type FilterContext, type HostFilter } from './filters/index.ts';
import { FleetIndex } from './fleet-index.ts';
import { layoutOfTopology } from './host-layout.ts';
import { applyClaim, createHostState, hostFree, pinClaim, type HostState } from './host-state.ts';
import { fitOnHost } from './numa-fit.ts';
import { scorers } from './scorers/index.ts';
import { gpuModels, hostSpec, topologyOf } from './test-support.ts';
import type { PlacementRequest } from './types.ts';

const hostCase = fc.record({
  spec: hostSpec,
  state: fc.constantFrom('active', 'active', 'active', 'maintenance', 'draining', 'down'),
  fills: fc.array(
    fc.record({ vcpus: fc.integer({ min: 1, max: 6 }), memoryMiB: fc.integer({ min: 256, max: 4096 }) }),
    {
      maxLength: 6,
    },
  ),
  member: fc.boolean(),
  busy: fc.boolean(),
  avoided: fc.boolean(),
  extraRejects: fc.boolean(),
});

const requestCase = fc.record({
  gpu: fc.boolean(),
  vcpus: fc.integer({ min: 1, max: 8 }),
  memoryMiB: fc.integer({ min: 256, max: 6144 }),
  diskGiB: fc.integer({ min: 0, max: 60 }),
  model: fc.constantFrom(...gpuModels),
  gpus: fc.integer({ min: 1, max: 2 }),
  vfs: fc.integer({ min: 0, max: 2 }),
  group: fc.boolean(),
  scorer: fc.constantFrom(...Object.values(scorers)),
  vpsOnGpuHosts: fc.boolean(),
});

type HostCase = typeof hostCase extends fc.Arbitrary<infer T> ? T : never;

function fleetOf(cases: HostCase[], vpsOnGpuHosts: boolean) {
  const fleet = new FleetIndex({ vpsOnGpuHosts, alignCores: 4 });
  const otherTransaction = {};
  const hosts: HostState[] = cases.map((c, i) => {
    const layout = layoutOfTopology(topologyOf(c.spec));
    const host = createHostState({
      id: `host_${i}`,
      name: `host_${i}`,
      region: 'fra1',
      kind: layout.gpus.length > 0 ? 'gpu' : 'standard',
      state: c.state,
      generation: 1,
      layout,
    });
    c.fills.forEach((fill, n) => {
      const demand: Demand = { ...fill, diskGiB: 1, gpuModel: null, gpuCount: 0, vfs: 0 };
      const choice = fitOnHost(hostFree(host, null), demand);
      if (choice) applyClaim(host, `srv_fill_${i}_${n}`, pinClaim(host, choice, demand, null));
    });
    if (c.member) host.groupCounts.set('pg_spread', 1);
    if (c.busy) host.owner = otherTransaction;
    return host;
  });
  for (const host of hosts) fleet.put(host);
  return fleet;
}

test('decide and explain follow one filter list, whatever filter is added to it', () => {
  fc.assert(
    fc.property(
      fc.array(hostCase, { minLength: 1, maxLength: 6 }),
      requestCase,
      fc.nat(defaultFilters.length),
      (hostCases, r, extraAt) => {
        const fleet = fleetOf(hostCases, r.vpsOnGpuHosts);
        const rejected = new Set(hostCases.flatMap((c, i) => (c.extraRejects ? [`host_${i}`] : [])));
        const extra: HostFilter = {
          name: 'extra',
          kind: 'eligibility',
          rejects: (host) => rejected.has(host.id),
          reason: () => 'are rejected by the extra filter',
        };
        const filters = [...defaultFilters.slice(0, extraAt), extra, ...defaultFilters.slice(extraAt)];
        const request: PlacementRequest = {
          serverId: 'srv_new',
          projectId: 'prj_test',
          region: 'fra1',
          family: r.gpu ? 'gpu' : 'vps',
          vcpus: r.vcpus,
          memoryMiB: r.memoryMiB,
          diskGiB: r.diskGiB,
          gpuModel: r.gpu ? r.model : null,
          gpuCount: r.gpu ? r.gpus : 0,
          sriovVfs: r.vfs,
          placementGroupId: r.group ? 'pg_spread' : null,
        };
        const demand: Demand = {
          vcpus: request.vcpus,
          memoryMiB: request.memoryMiB,
          diskGiB: request.diskGiB,
          gpuModel: request.gpuModel,
          gpuCount: request.gpuCount,
          vfs: request.sriovVfs,
        };
        const context: FilterContext = {
          request,
          demand,
          coresNeeded: coresFor(demand.vcpus, 2),
          avoidHostIds: new Set(hostCases.flatMap((c, i) => (c.avoided ? [`host_${i}`] : []))),
          spreadGroupId: r.group ? 'pg_spread' : null,
          owner: null,
          vpsOnGpuHosts: r.vpsOnGpuHosts,
        };
        const hosts = fleet.regions.get('fra1')?.hosts ?? [];
        const passing = hosts.filter((host) => filters.every((filter) => !filter.rejects(host, context)));
        const { decision } = decide(fleet, context, r.scorer, createFilterPlan(filters));
        if (decision) {
          assert.ok(passing.includes(decision.host), `decide chose ${decision.host.id}, which a filter rejects`);
          if (decision.choice.nodes.length > 1) {
            const oneNode = passing.some((host) => host.nodes.some((_, node) => nodeFits(host, node, demand)));
            assert.equal(oneNode, false, 'spanned NUMA nodes although a passing host had one node that fits');
          }
        } else {
          assert.deepEqual(
            passing.map((host) => host.id),
            [],
            'decide found nothing although hosts pass every filter',
          );
          const failure = explainFailure(hosts, context, filters);
          assert.equal(
            failure.rejections.reduce((sum, rejection) => sum + rejection.hosts, 0),
            hosts.length,
            'every host is counted against a filter',
          );
          assert.equal(
            failure.rejections.find((rejection) => rejection.filter === 'extra')?.hosts ?? 0,
            hosts.filter((host) => filters.find((filter) => filter.rejects(host, context)) === extra).length,
          );
        }
      },
    ),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
  );
});

test('a reason for several hosts agrees with one host', async (t) => {
  const cases: Array<[string, string]> = [
    ['are draining', 'is draining'],
    ['lack 8 free cores', 'lacks 8 free cores'],
    ['have no GPUs', 'has no GPUs'],
    ['cannot lay out the cores', 'cannot lay out the cores'],
    ['already run a member of spread placement group pg_web', 'already runs a member of spread placement group pg_web'],
    ['run an older CPU generation', 'runs an older CPU generation'],
    ['reach the switch', 'reaches the switch'],
  ];
  for (const [many, one] of cases)
    await t.test(many, () => {
      assert.equal(adjust(many, 1), one);
      assert.equal(adjust(many, 2), many);
    });
});
