/** Seed-shaped fleets at any scale: the default fleet's regions and shapes, scaled to N hosts. */
import { defaultFleet } from '../../src/catalog/vmcloud-defaults.ts';
import { hostShapes, topologyOfShape, type HostShapeName } from '../../src/inventory/shapes.ts';
import type { HostTopology } from '../../src/inventory/topology.ts';
import { shapeHost, type FixtureHost } from '../../src/scheduler/store/fixtures.ts';

/**
 * Scales every (region, shape) line of the default fleet to `hostCount` hosts (largest remainder rounding).
 * Hosts of one shape share one topology object (100,000 copies would take gigabytes).
 */
export function seedShapedFleet(hostCount: number): FixtureHost[] {
  const total = defaultFleet.reduce((sum, entry) => sum + entry.count, 0);
  const exact = defaultFleet.map((entry) => (entry.count * hostCount) / total);
  const counts = exact.map(Math.floor);
  const order = exact.map((value, i) => ({ i, rest: value - Math.floor(value) })).sort((a, b) => b.rest - a.rest);
  for (let k = 0; k < hostCount - counts.reduce((sum, count) => sum + count, 0); k++) counts[order[k].i]++;
  const topologies = new Map<HostShapeName, HostTopology>();
  const topologyOf = (shape: HostShapeName) => {
    let topology = topologies.get(shape);
    if (!topology) topologies.set(shape, (topology = topologyOfShape(hostShapes[shape])));
    return topology;
  };
  const hosts: FixtureHost[] = [];
  defaultFleet.forEach((entry, i) => {
    for (let n = 0; n < counts[i]; n++)
      hosts.push(
        shapeHost(
          `host_${entry.region}_${entry.shape}_${n}`,
          entry.region,
          entry.shape,
          'active',
          topologyOf(entry.shape),
        ),
      );
  });
  return hosts;
}
