/** Two agents' UDP echo endpoints on loopback measure a real round trip, and a loss ratio under induced drops. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { probeRttBucketsMs } from '../contract/index.ts';
import { createModelProber, createUdpProber } from './probes.ts';

test('UDP echo between two agents on loopback: a real round trip, every 10th probe dropped is 10 % loss', async () => {
  const a = await createUdpProber({ host: '127.0.0.1', port: 0, intervalMs: 0, timeoutMs: 500 });
  const b = await createUdpProber({ host: '127.0.0.1', port: 0, intervalMs: 0, timeoutMs: 500, dropEvery: 10 });
  try {
    assert.notEqual(a.port, b.port);
    a.setPeers([{ hostId: 'host_b', address: '127.0.0.1', port: b.port }]);
    b.setPeers([{ hostId: 'host_a', address: '127.0.0.1', port: a.port }]);
    for (let i = 0; i < 100; i++) {
      a.tick();
      await sleep(2);
    }
    b.tick();
    // Every answer is in long before the timeout; the dropped ones expire after it.
    await sleep(700);
    const fromA = a.take();
    assert.ok(fromA);
    assert.equal(fromA.method, 'sockets');
    assert.equal(fromA.sent, 100);
    assert.equal(fromA.received, 90, 'the responder left every 10th request unanswered');
    assert.equal(b.answered(), 90);
    assert.equal((fromA.sent - fromA.received) / fromA.sent, 0.1);
    assert.ok(fromA.p50Ms !== null && fromA.p50Ms > 0 && fromA.p50Ms < 500, `p50 ${fromA.p50Ms}`);
    assert.ok(fromA.p99Ms! >= fromA.p50Ms);
    assert.equal(
      fromA.histogram.reduce((x, y) => x + y),
      90,
    );
    assert.deepEqual(
      fromA.peers.map((p) => [p.hostId, p.sent, p.received]),
      [['host_b', 100, 90]],
    );
    // B's one probe to A was answered (A drops nothing), and the period is reset by a take.
    const fromB = b.take();
    assert.deepEqual([fromB?.sent, fromB?.received], [1, 1]);
    assert.equal(a.take(), null, 'nothing measured since the last take');
  } finally {
    await a.close();
    await b.close();
  }
});

test('the responder ignores what is not an echo request (wrong size, answers): no loops, no amplification', async () => {
  const a = await createUdpProber({ host: '127.0.0.1', port: 0, intervalMs: 0 });
  const { createSocket } = await import('node:dgram');
  const other = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => other.bind(0, '127.0.0.1', resolve));
    const got: Buffer[] = [];
    other.on('message', (m) => got.push(m));
    const request = Buffer.alloc(24);
    Buffer.from('VMPR').copy(request);
    request[4] = 1;
    const answer = Buffer.from(request);
    answer[4] = 2;
    for (const packet of [Buffer.alloc(24), Buffer.concat([request, Buffer.alloc(100)]), answer, request])
      other.send(packet, a.port, '127.0.0.1');
    await sleep(200);
    assert.equal(got.length, 1, 'only the well-formed request is answered');
    assert.equal(got[0].length, 24);
    assert.equal(got[0][4], 2);
  } finally {
    other.close();
    await a.close();
  }
});

test('the model prober: one probe per peer per interval of the period, deterministic', () => {
  let now = Date.parse('2025-03-01T12:00:00Z');
  const clock = { nowMs: () => now, nowIso: () => new Date(now).toISOString() };
  const peers = [
    { hostId: 'host_b', address: null, port: null },
    { hostId: 'host_c', address: null, port: null },
  ];
  const one = createModelProber({ hostId: 'host_a', clock });
  const two = createModelProber({ hostId: 'host_a', clock });
  const lonely = createModelProber({ hostId: 'host_a', clock });
  one.setPeers(peers);
  two.setPeers(peers);
  now += 60_000;
  const report = one.take()!;
  assert.equal(report.method, 'model');
  assert.equal(report.sent, 120);
  assert.equal(report.periodS, 60);
  assert.ok(report.p50Ms! > 0.1 && report.p50Ms! < 1, `p50 ${report.p50Ms}`);
  assert.deepEqual(two.take(), report, 'the same figures on every replica');
  assert.equal(lonely.take(), null, 'no peers: nothing');
});

test('the model prober: hosts of other regions reported apart, per region, once its own region is known', () => {
  let now = Date.parse('2025-03-01T12:00:00Z');
  const clock = { nowMs: () => now, nowIso: () => new Date(now).toISOString() };
  const peers = [
    { hostId: 'host_b', address: null, port: null },
    { hostId: 'host_p1', address: null, port: null, region: 'par1' },
    { hostId: 'host_p2', address: null, port: null, region: 'par1' },
  ];
  const prober = createModelProber({ hostId: 'host_a', clock });
  prober.setPeers(peers);
  now += 60_000;
  const unknown = prober.take()!;
  assert.equal(unknown.sent, 60, 'own region unknown: the other region is not modelled');
  assert.equal(unknown.remote, undefined);
  prober.setPeers(peers, 'fra1');
  now += 60_000;
  const report = prober.take()!;
  assert.equal(report.sent, 60, 'the own region figures count its own peers only');
  assert.ok(report.p50Ms! < 1, `p50 ${report.p50Ms}`);
  assert.deepEqual(
    report.remote!.map((r) => [r.region, r.sent, r.peers]),
    [['par1', 120, 2]],
  );
  const buckets = report.remote![0].histogram;
  const firstUsed = buckets.findIndex((n) => n > 0);
  assert.ok(probeRttBucketsMs[firstUsed] > 5, 'inter-region round trips are milliseconds, not the fabric’s');
});
