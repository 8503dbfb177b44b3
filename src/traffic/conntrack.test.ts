import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConntrackFlows, parseConntrack } from './conntrack.ts';

// Lines as the kernel writes them with nf_conntrack_acct=1 (UDP unreplied, TCP established, ICMP, IPv6).
const table = [
  'ipv4     2 udp      17 28 src=10.12.0.5 dst=198.51.100.200 sport=40001 dport=9 packets=300 bytes=158400 [UNREPLIED] src=198.51.100.200 dst=10.12.0.5 sport=9 dport=40001 packets=0 bytes=0 mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 431999 ESTABLISHED src=203.0.113.7 dst=10.12.0.5 sport=51000 dport=443 packets=12 bytes=1800 src=10.12.0.5 dst=203.0.113.7 sport=443 dport=51000 packets=10 bytes=15000 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 icmp     1 29 src=10.12.0.5 dst=198.51.100.2 type=8 code=0 id=77 packets=3 bytes=252 src=198.51.100.2 dst=10.12.0.5 type=0 code=0 id=77 packets=3 bytes=252 mark=0 zone=0 use=2',
  'ipv6     10 udp      17 25 src=2001:db8:2:1::5 dst=2001:db8:ffff::1 sport=5353 dport=53 packets=1 bytes=80 src=2001:db8:ffff::1 dst=2001:db8:2:1::5 sport=53 dport=5353 packets=1 bytes=120 mark=0 zone=0 use=2',
  'ipv4     2 udp      17 28 src=192.0.2.1 dst=192.0.2.2 sport=1 dport=2 packets=1 bytes=1 src=192.0.2.2 dst=192.0.2.1 sport=2 dport=1 packets=0 bytes=0 mark=0 use=2',
  'garbage line',
  '',
].join('\n');

test('parse: protocol, both tuples with their counters; lines it cannot read are skipped', () => {
  const entries = parseConntrack(table);
  assert.equal(entries.length, 5);
  assert.deepEqual(entries[1], {
    protocol: 6,
    orig: { src: '203.0.113.7', dst: '10.12.0.5', sport: 51000, dport: 443, packets: 12, bytes: 1800 },
    reply: { src: '10.12.0.5', dst: '203.0.113.7', sport: 443, dport: 51000, packets: 10, bytes: 15000 },
  });
  assert.equal(entries[2].protocol, 1);
  assert.equal(entries[2].orig.sport, 0);
  assert.equal(entries[3].orig.src, '2001:db8:2:1::5');
});

test('drain: entries of the host’s servers that ended become flow records, one per direction with packets', async () => {
  let text = table;
  let now = 1_000;
  const servers = new Map([
    ['10.12.0.5', 'srv_a'],
    ['2001:db8:2:1::5', 'srv_b'],
  ]);
  const flows = createConntrackFlows({
    read: async () => text,
    serverOf: (a) => servers.get(a) ?? null,
    nowMs: () => now,
  });
  assert.deepEqual(await flows.drain(), [], 'nothing has ended yet');
  assert.equal(flows.size(), 4, 'the entry of no server is not followed');
  now = 3_000;
  // The TCP connection and the IPv6 DNS query end; the UDP and ICMP entries live on, counters grown.
  text = [
    table.split('\n')[0].replace('packets=300 bytes=158400', 'packets=400 bytes=211200'),
    table.split('\n')[2],
  ].join('\n');
  const ended = await flows.drain();
  assert.deepEqual(
    ended.map((f) => [
      f.serverId,
      f.direction,
      f.srcAddr,
      f.dstPort,
      f.protocol,
      f.packets,
      f.bytes,
      f.startMs,
      f.endMs,
    ]),
    [
      ['srv_a', 'in', '203.0.113.7', 443, 6, 12, 1800, 1_000, 1_000],
      ['srv_a', 'out', '10.12.0.5', 51000, 6, 10, 15000, 1_000, 1_000],
      ['srv_b', 'out', '2001:db8:2:1::5', 53, 17, 1, 80, 1_000, 1_000],
      ['srv_b', 'in', '2001:db8:ffff::1', 5353, 17, 1, 120, 1_000, 1_000],
    ],
  );
  now = 5_000;
  text = '';
  const last = await flows.drain();
  // The unreplied UDP flow: one direction, its last counters, first and last sight.
  assert.deepEqual(
    last.filter((f) => f.protocol === 17).map((f) => [f.direction, f.packets, f.bytes, f.startMs, f.endMs]),
    [['out', 400, 211200, 1_000, 3_000]],
  );
  assert.equal(last.filter((f) => f.protocol === 1).length, 2, 'the ping and its replies');
  assert.ok(ended.concat(last).every((f) => f.action === 'accept' && f.rule === null));
  assert.equal(flows.size(), 0);
});
