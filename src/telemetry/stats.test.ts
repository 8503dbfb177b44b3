/** The pure figures of agent telemetry, table-tested. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeRttBucketsMs } from '../contract/index.ts';
import {
  addHistograms,
  bucketOf,
  cpuStealRatio,
  parseCpuTicks,
  simInterRegionRoundTripMs,
  simRegionPairBaseMs,
  splitByRegion,
  histogramOf,
  histogramPercentile,
  lossRatio,
  percentile,
  samplePeers,
  simRoundTripMs,
  summarizeProbes,
  usageDelta,
} from './stats.ts';
import { echoEndpointOf, hostStealFigures, regionFigures, regionPairFigures } from './service.ts';

test('percentile: nearest rank', () => {
  const cases: Array<[number[], number, number | null]> = [
    [[], 50, null],
    [[7], 50, 7],
    [[7], 99, 7],
    [[3, 1, 2], 50, 2],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 99, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    [Array.from({ length: 100 }, (_, i) => i + 1), 50, 50],
  ];
  for (const [values, p, expected] of cases) assert.equal(percentile(values, p), expected, `${p} of ${values}`);
});

test('loss ratio: lost over sent; nothing sent is no figure; never negative', () => {
  const cases: Array<[number, number, number | null]> = [
    [0, 0, null],
    [10, 10, 0],
    [10, 9, 0.1],
    [100, 0, 1],
    [10, 12, 0],
    [10_000, 9_999, 0.0001],
  ];
  for (const [sent, received, expected] of cases) assert.equal(lossRatio(sent, received), expected);
});

test('histogram buckets: the first bound not exceeded, +Inf last', () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [0.05, 0],
    [0.051, 1],
    [0.8, probeRttBucketsMs.indexOf(0.8)],
    [0.81, probeRttBucketsMs.indexOf(1)],
    [1000, probeRttBucketsMs.length - 1],
    [1000.1, probeRttBucketsMs.length],
  ];
  for (const [rtt, bucket] of cases) assert.equal(bucketOf(rtt), bucket, `${rtt} ms`);
  const h = histogramOf([0.01, 0.3, 0.3, 5000]);
  assert.equal(h.length, probeRttBucketsMs.length + 1);
  assert.equal(
    h.reduce((a, b) => a + b),
    4,
  );
  assert.equal(h[probeRttBucketsMs.length], 1);
  assert.deepEqual(addHistograms([1, 2], [3, 4]), [4, 6]);
  assert.throws(() => addHistograms([1], [1, 2]), /cannot be added/);
});

test('histogram percentiles: inside the right bucket, interpolated; empty is null', () => {
  assert.equal(histogramPercentile(histogramOf([]), 50), null);
  // 100 round trips all in (0.2, 0.3]: the median is interpolated halfway into that bucket.
  const flat = histogramOf(Array.from({ length: 100 }, () => 0.25));
  assert.equal(histogramPercentile(flat, 50), 0.25);
  assert.equal(histogramPercentile(flat, 100), 0.3);
  // 99 fast and 1 slow: p50 stays fast, p99 fast, p100 slow.
  const tail = histogramOf([...Array.from({ length: 99 }, () => 0.35), 40]);
  const p50 = histogramPercentile(tail, 50)!;
  assert.ok(p50 > 0.3 && p50 <= 0.4, `p50 ${p50}`);
  assert.ok(histogramPercentile(tail, 99)! <= 0.4);
  assert.ok(histogramPercentile(tail, 100)! > 30);
  // Only the +Inf bucket: its lower bound.
  assert.equal(histogramPercentile(histogramOf([5000]), 50), 1000);
  // Sums of histograms answer the percentile of all the samples.
  const merged = addHistograms(histogramOf([0.1, 0.1, 0.1]), histogramOf([2, 2, 2, 2]));
  assert.ok(histogramPercentile(merged, 50)! > 1.5);
});

test('summarizeProbes: totals, exact percentiles per peer, lost probes counted as sent', () => {
  const summary = summarizeProbes([
    { peer: 'host_b', rttMs: 0.4 },
    { peer: 'host_b', rttMs: 0.2 },
    { peer: 'host_b', rttMs: null },
    { peer: 'host_a', rttMs: 1 },
    { peer: 'host_c', rttMs: null },
  ]);
  assert.equal(summary.sent, 5);
  assert.equal(summary.received, 3);
  assert.equal(summary.p50Ms, 0.4);
  assert.equal(summary.p99Ms, 1);
  assert.equal(
    summary.histogram.reduce((a, b) => a + b),
    3,
  );
  assert.deepEqual(summary.peers, [
    { hostId: 'host_a', sent: 1, received: 1, p50Ms: 1, p99Ms: 1 },
    { hostId: 'host_b', sent: 3, received: 2, p50Ms: 0.2, p99Ms: 0.4 },
    { hostId: 'host_c', sent: 1, received: 0, p50Ms: null, p99Ms: null },
  ]);
});

test('samplePeers: never itself, at most max, deterministic per epoch, rotates across epochs', () => {
  const hosts = Array.from({ length: 30 }, (_, i) => ({ hostId: `host_${String(i).padStart(2, '0')}` }));
  const a = samplePeers('host_00', hosts, 8, 1);
  assert.equal(a.length, 8);
  assert.ok(!a.some((h) => h.hostId === 'host_00'));
  assert.deepEqual(samplePeers('host_00', hosts, 8, 1), a);
  assert.notDeepEqual(samplePeers('host_00', hosts, 8, 2), a);
  assert.equal(samplePeers('host_00', hosts.slice(0, 3), 8, 1).length, 2);
  assert.deepEqual(samplePeers('host_00', [{ hostId: 'host_00' }], 8, 1), []);
  // Over many hours every other host gets probed.
  const seen = new Set<string>();
  for (let epoch = 0; epoch < 48; epoch++) for (const h of samplePeers('host_00', hosts, 8, epoch)) seen.add(h.hostId);
  assert.equal(seen.size, 29);
});

test('samplePeers in a large region: max distinct others, deterministic, rotating, covering the region in a day', () => {
  const hosts = Array.from({ length: 500 }, (_, i) => ({ hostId: `host_${String(i).padStart(3, '0')}` }));
  const a = samplePeers('host_007', hosts, 8, 5);
  assert.equal(a.length, 8);
  assert.equal(new Set(a.map((h) => h.hostId)).size, 8, 'distinct');
  assert.ok(!a.some((h) => h.hostId === 'host_007'));
  assert.deepEqual(samplePeers('host_007', hosts, 8, 5), a);
  assert.notDeepEqual(samplePeers('host_007', hosts, 8, 6), a);
  assert.notDeepEqual(samplePeers('host_008', hosts, 8, 5), a, 'each host its own sample');
  const seen = new Set<string>();
  for (let epoch = 0; epoch < 24 * 30; epoch++)
    for (const h of samplePeers('host_007', hosts, 8, epoch)) seen.add(h.hostId);
  assert.ok(seen.size > 490, `${seen.size} of 499 probed in 30 days`);
});

test('sim round trips: symmetric, deterministic, intra-DC sized, rare losses', () => {
  assert.equal(simRoundTripMs('host_a', 'host_b', 7), simRoundTripMs('host_b', 'host_a', 7));
  const rtts: Array<number | null> = [];
  for (let n = 0; n < 100_000; n++) rtts.push(simRoundTripMs('host_a', 'host_b', n));
  const answered = rtts.filter((r): r is number => r !== null);
  const lost = rtts.length - answered.length;
  assert.ok(lost < 20, `${lost} lost`);
  const p50 = percentile(answered, 50)!;
  assert.ok(p50 >= 0.12 && p50 <= 0.72, `p50 ${p50}`);
  assert.ok(percentile(answered, 99)! > p50);
});

test('usageDelta: differences, a restarted counter counts from zero, no previous reading is nothing', () => {
  const c = (n: number) => ({
    cpuSeconds: n,
    diskReadBytes: n * 10,
    diskWriteBytes: n * 20,
    diskReadOps: n,
    diskWriteOps: 2 * n,
  });
  assert.equal(usageDelta('s', undefined, c(5), 60), null);
  assert.equal(usageDelta('s', c(1), c(5), 0), null);
  assert.deepEqual(usageDelta('s', c(1), c(5), 60), {
    serverId: 's',
    seconds: 60,
    cpuSeconds: 4,
    diskReadBytes: 40,
    diskWriteBytes: 80,
    diskReadOps: 4,
    diskWriteOps: 8,
  });
  assert.equal(usageDelta('s', c(50), c(3), 60)!.cpuSeconds, 3, 'a new QEMU process: its counters since start');
  assert.equal(usageDelta('s', c(1), c(2), 86_400)!.seconds, 3600, 'at most an hour');
});

test('echo endpoints and region sums', () => {
  assert.deepEqual(echoEndpointOf('https://10.0.0.5:8443'), { address: '10.0.0.5', port: 8443 });
  assert.deepEqual(echoEndpointOf('https://[::1]:9000'), { address: '::1', port: 9000 });
  assert.deepEqual(echoEndpointOf('https://host.example'), { address: 'host.example', port: 443 });
  assert.equal(echoEndpointOf(null), null);
  assert.equal(echoEndpointOf('not a url'), null);
  const row = (hostId: string, region: string, rtts: number[], sent: number, method = 'sockets') => ({
    hostId,
    hourMs: 0,
    region,
    method,
    sent,
    received: rtts.length,
    histogram: histogramOf(rtts),
    peers: 1,
  });
  const figures = regionFigures(
    [row('a', 'fra1', [0.25, 0.25], 2), row('b', 'fra1', [0.25, 0.25], 4), row('c', 'par1', [3], 1, 'model')],
    3_600_000,
  );
  assert.deepEqual(
    figures.map((f) => [f.region, f.sent, f.received, f.lossRatio, f.hosts, f.simulated]),
    [
      ['fra1', 6, 4, 2 / 6, 2, false],
      ['par1', 1, 1, 0, 1, true],
    ],
  );
  assert.equal(figures[0].p50Ms, 0.25);
});

test('splitByRegion: peers without a region are local; others per region, sorted, lost probes counted', () => {
  const regionOf = new Map([
    ['host_p1', 'par1'],
    ['host_p2', 'par1'],
    ['host_a1', 'ams1'],
  ]);
  const { local, remote } = splitByRegion(
    [
      { peer: 'host_b', rttMs: 0.3 },
      { peer: 'host_p1', rttMs: 12 },
      { peer: 'host_p2', rttMs: null },
      { peer: 'host_p2', rttMs: 14 },
      { peer: 'host_a1', rttMs: 22 },
    ],
    regionOf,
  );
  assert.deepEqual(local, [{ peer: 'host_b', rttMs: 0.3 }]);
  assert.deepEqual(
    remote.map((r) => [r.region, r.sent, r.received, r.peers, r.histogram.reduce((a, b) => a + b, 0)]),
    [
      ['ams1', 1, 1, 1, 1],
      ['par1', 3, 2, 2, 2],
    ],
  );
  assert.equal(remote[1].histogram[bucketOf(12)], 2, '12 and 14 ms share the 10–20 ms bucket');
  assert.deepEqual(splitByRegion([], regionOf), { local: [], remote: [] });
});

test('sim inter-region model: 8–25 ms per pair, symmetric, deterministic; same region is the intra-DC model', () => {
  const regions = ['fra1', 'par1', 'ams1', 'waw1', 'mad1'];
  for (const a of regions)
    for (const b of regions) {
      if (a === b) continue;
      const base = simRegionPairBaseMs(a, b);
      assert.ok(base >= 8 && base <= 25, `${a}-${b} ${base}`);
      assert.equal(simRegionPairBaseMs(b, a), base);
      const rtt = simInterRegionRoundTripMs(a, 'host_1', b, 'host_2', 7);
      assert.equal(rtt, simInterRegionRoundTripMs(b, 'host_2', a, 'host_1', 7), 'both directions agree');
      if (rtt !== null) assert.ok(rtt >= base * 0.9 && rtt <= base * 1.1 * 1.5, `${rtt}`);
    }
  assert.notEqual(simRegionPairBaseMs('fra1', 'par1'), simRegionPairBaseMs('fra1', 'ams1'));
  assert.equal(simInterRegionRoundTripMs('fra1', 'host_1', 'fra1', 'host_2', 3), simRoundTripMs('host_1', 'host_2', 3));
});

test('parseCpuTicks and cpuStealRatio: /proc/stat deltas', () => {
  const stat = (user: number, idle: number, steal: number) =>
    `cpu  ${user} 0 10 ${idle} 5 0 0 ${steal} 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n`;
  const cases: Array<[string, { total: number; steal: number } | null]> = [
    [stat(100, 880, 5), { total: 1000, steal: 5 }],
    ['cpu  1 2 3\n', null],
    ['intr 1 2\n', null],
    ['', null],
    ['cpu  1 2 3 4 5 6 7 x 9 10\n', null],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseCpuTicks(text), expected, JSON.stringify(text));
  const ratios: Array<[[number, number] | null, [number, number], number | null]> = [
    [null, [1000, 5], null],
    [[1000, 5], [2000, 15], 0.01],
    [[1000, 5], [2000, 5], 0],
    [[1000, 5], [1000, 5], null], // no progress
    [[1000, 5], [500, 1], null], // counters reset (reboot)
    [[0, 0], [10, 20], 1], // never above 1
  ];
  for (const [previous, current, expected] of ratios)
    assert.equal(
      cpuStealRatio(previous && { total: previous[0], steal: previous[1] }, { total: current[0], steal: current[1] }),
      expected,
    );
});

test('regionPairFigures: both directions summed per unordered pair; same-region rows ignored', () => {
  const row = (
    hostId: string,
    region: string,
    peerRegion: string,
    rtts: number[],
    sent: number,
    method = 'sockets',
  ) => ({
    hostId,
    hourMs: 0,
    region,
    peerRegion,
    method,
    sent,
    received: rtts.length,
    histogram: histogramOf(rtts),
    peers: 2,
  });
  const pairs = regionPairFigures(
    [
      row('host_f', 'fra1', 'par1', [12, 12, 12], 4),
      row('host_p', 'par1', 'fra1', [12], 1),
      row('host_a', 'ams1', 'fra1', [22, 22], 2, 'model'),
      row('host_x', 'fra1', 'fra1', [1], 1),
    ],
    86_400_000,
  );
  assert.deepEqual(
    pairs.map((p) => [p.regions, p.sent, p.received, p.hosts, p.simulated, p.lossRatio]),
    [
      [['ams1', 'fra1'], 2, 2, 1, true, 0],
      [['fra1', 'par1'], 5, 4, 2, false, 0.2],
    ],
  );
  assert.ok(pairs[1].p50Ms! > 10 && pairs[1].p50Ms! <= 20, `${pairs[1].p50Ms}`);
  assert.ok(pairs[0].p99Ms! > 20 && pairs[0].p99Ms! <= 30, `${pairs[0].p99Ms}`);
});

test('hostStealFigures: steal seconds over reported seconds per host, the latest region, model taints', () => {
  const row = (
    hostId: string,
    hourMs: number,
    region: string,
    periodSeconds: number,
    stealSeconds: number,
    method = 'procfs',
  ) => ({
    hostId,
    hourMs,
    region,
    method,
    periodSeconds,
    stealSeconds,
  });
  assert.deepEqual(
    hostStealFigures([
      row('host_b', 0, 'fra1', 3600, 36),
      row('host_b', 3_600_000, 'par1', 3600, 0),
      row('host_a', 0, 'fra1', 60, 0, 'model'),
      row('host_c', 0, 'fra1', 0, 0),
    ]),
    [
      { hostId: 'host_a', region: 'fra1', stealPercent: 0, periodSeconds: 60, simulated: true },
      { hostId: 'host_b', region: 'par1', stealPercent: 0.5, periodSeconds: 7200, simulated: false },
      { hostId: 'host_c', region: 'fra1', stealPercent: null, periodSeconds: 0, simulated: false },
    ],
  );
});
