import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { counterDelta, readInterfaceCounters, serverViewOfTap } from './tap-counters.ts';
import { accountingRuleset, parseNftCounters } from './nft-accounting.ts';

test('tap counters: read from a statistics tree, seen from the server, deltas across a reset', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sysnet-'));
  mkdirSync(join(root, 'tap1', 'statistics'), { recursive: true });
  const values = { rx_bytes: 1000, tx_bytes: 5000, rx_packets: 10, tx_packets: 50 };
  for (const [file, value] of Object.entries(values))
    writeFileSync(join(root, 'tap1', 'statistics', file), `${value}\n`);
  const tap = await readInterfaceCounters('tap1', root);
  assert.deepEqual(tap, { rxBytes: 1000, txBytes: 5000, rxPackets: 10, txPackets: 50 });
  assert.equal(await readInterfaceCounters('tap9', root), null);
  await assert.rejects(readInterfaceCounters('../etc', root), RangeError);
  const server = serverViewOfTap(tap!);
  assert.equal(server.txBytes, 1000, 'what the host received on the tap, the guest sent');
  assert.deepEqual(counterDelta(null, server), { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 });
  const later = { rxBytes: 9000, txBytes: 1500, rxPackets: 90, txPackets: 15 };
  assert.deepEqual(counterDelta(server, later), { rxBytes: 4000, txBytes: 500, rxPackets: 40, txPackets: 5 });
  // The tap was recreated (server restarted): counters start again from zero.
  const reset = { rxBytes: 300, txBytes: 200, rxPackets: 3, txPackets: 2 };
  assert.deepEqual(counterDelta(later, reset), reset);
});

test('accounting ruleset: counters per server, metered vs unmetered; nft accepts it', (t) => {
  const text = accountingRuleset({
    unmetered4: ['10.11.0.0/16', '10.12.0.0/16'],
    unmetered6: [],
    taps: [{ ifname: 'vmtap0', key: 'srv_a1' }],
  });
  assert.match(text, /counter srv_a1_tx_unmetered \{\}/);
  assert.match(text, /iifname "vmtap0" ip daddr @unmetered4 counter name srv_a1_tx_unmetered/);
  assert.match(text, /oifname "vmtap0" ip saddr != @unmetered4 counter name srv_a1_rx_metered/);
  assert.doesNotMatch(text, /accept;\n.*drop/);
  assert.throws(() => accountingRuleset({ unmetered4: [], unmetered6: [], taps: [{ ifname: 'x"; drop', key: 'k' }] }));
  assert.throws(() => accountingRuleset({ unmetered4: [], unmetered6: [], taps: [{ ifname: 'tap0', key: 'a b' }] }));
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { counter: { family: 'inet', name: 'srv_a1_tx_metered', table: 'vmcloud_acct', packets: 3, bytes: 180 } },
    ],
  });
  assert.deepEqual([...parseNftCounters(json)], [['srv_a1_tx_metered', { packets: 3, bytes: 180 }]]);
  if (process.getuid?.() !== 0) return t.skip('nft -c needs root');
  execFileSync('nft', ['-c', '-f', '-'], { input: text });
});
