import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFirewallDropFlows, firewallDefaultDenyRule, type DropSetElement } from './firewall-drops.ts';

const element = (e: Partial<DropSetElement>): DropSetElement => ({
  ifname: 'vmca',
  direction: 'in',
  src: '203.0.113.9',
  dst: '198.18.0.10',
  protocol: 6,
  dstPort: 5432,
  packets: 1,
  bytes: 60,
  expiresSeconds: 60,
  timeoutSeconds: 60,
  ...e,
});

/** A tracker over a list of readings, one per drain, each at its own instant. */
function replay(readings: Array<{ atMs: number; elements: DropSetElement[] }>) {
  let i = -1;
  const tracker = createFirewallDropFlows({
    read: async () => readings[i].elements,
    serverOf: (ifname) => (ifname === 'vmca' ? 'srv_a' : ifname === 'vmcb' ? 'srv_b' : null),
    nowMs: () => readings[i].atMs,
  });
  return {
    tracker,
    async next() {
      i++;
      return tracker.drain();
    },
  };
}

test('an element becomes one drop record when it expires: start from its age, end at its last growth', async () => {
  const t0 = 1_700_000_000_000;
  const r = replay([
    // First seen 2 s after it was added (58 s left of 60).
    { atMs: t0, elements: [element({ packets: 1, expiresSeconds: 58 })] },
    { atMs: t0 + 1000, elements: [element({ packets: 3, bytes: 180, expiresSeconds: 57 })] },
    { atMs: t0 + 2000, elements: [element({ packets: 3, bytes: 180, expiresSeconds: 56 })] },
    { atMs: t0 + 60_000, elements: [] },
  ]);
  assert.deepEqual(await r.next(), []);
  assert.deepEqual(await r.next(), []);
  assert.deepEqual(await r.next(), []);
  assert.equal(r.tracker.size(), 1);
  assert.deepEqual(await r.next(), [
    {
      serverId: 'srv_a',
      direction: 'in',
      srcAddr: '203.0.113.9',
      dstAddr: '198.18.0.10',
      srcPort: 0,
      dstPort: 5432,
      protocol: 6,
      packets: 3,
      bytes: 180,
      startMs: t0 - 2000,
      endMs: t0 + 1000,
      action: 'drop',
      rule: firewallDefaultDenyRule,
    },
  ]);
  assert.equal(r.tracker.size(), 0);
});

test('a key added again after expiry between two readings ends the first record and starts a second', async () => {
  const t0 = 1_700_000_000_000;
  const r = replay([
    { atMs: t0, elements: [element({ packets: 5, expiresSeconds: 1 })] },
    // 59 s later the same key holds a new element (added 0–1 s ago) with more packets than before.
    { atMs: t0 + 59_000, elements: [element({ packets: 7, expiresSeconds: 60 })] },
    // And a counter that went down is a new element too.
    { atMs: t0 + 119_500, elements: [element({ packets: 2, expiresSeconds: 59 })] },
  ]);
  assert.deepEqual(await r.next(), []);
  const first = await r.next();
  assert.equal(first.length, 1);
  assert.equal(first[0].packets, 5);
  assert.equal(first[0].startMs, t0 - 59_000);
  const second = await r.next();
  assert.equal(second.length, 1);
  assert.equal(second[0].packets, 7);
  assert.equal(second[0].startMs, t0 + 59_000);
  assert.equal(r.tracker.size(), 1);
});

test('directions, other taps ignored, elements without packets ignored, several ending at once', async () => {
  const t0 = 1_700_000_000_000;
  const out = element({ ifname: 'vmcb', direction: 'out', src: '198.18.0.11', dst: '192.0.2.1', protocol: 17 });
  const r = replay([
    {
      atMs: t0,
      elements: [
        element({ protocol: 1, dstPort: 0 }),
        out,
        element({ ifname: 'vmcz' }),
        element({ src: '203.0.113.10', packets: 0 }),
      ],
    },
    { atMs: t0 + 61_000, elements: [] },
  ]);
  await r.next();
  assert.equal(r.tracker.size(), 2);
  const records = await r.next();
  assert.deepEqual(
    records.map((f) => [f.serverId, f.direction, f.protocol, f.dstPort, f.srcAddr]),
    [
      ['srv_a', 'in', 1, 0, '203.0.113.9'],
      ['srv_b', 'out', 17, 5432, '198.18.0.11'],
    ],
  );
});

test('the tracker follows at most maxEntries elements', async () => {
  const tracker = createFirewallDropFlows({
    read: async () => Array.from({ length: 10 }, (_, i) => element({ dstPort: i + 1 })),
    serverOf: () => 'srv_a',
    nowMs: () => 0,
    maxEntries: 4,
  });
  await tracker.drain();
  assert.equal(tracker.size(), 4);
});
