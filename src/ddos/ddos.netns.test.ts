/**
 * DDoS detection and mitigation for real, in network namespaces this test creates (root only; skipped
 * otherwise): an attacker, a legitimate client and a server, each behind a router namespace that plays the
 * hypervisor host. The host's meter table (nft counters per protected address) is read every second by the
 * detector loop below, which feeds the real DDoS service; mitigation is the compiled nft table applied in
 * the router namespace. A bounded flood — 5 seconds of UDP from the attacker, only ever to the server's
 * address 10.250.9.5 (IPv4) or 2001:db8:250:9::5 (IPv6, protected as its /64) inside these namespaces — is
 * detected, mitigated (the per-source limit's counter shows drops; on IPv6 a source is its /64), the
 * legitimate client's packets still arrive, and once the flood is over the attack ends and is recorded with
 * its events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../db/test-helpers.ts';
import { createEventBus, createLogger, systemClock } from '../core/index.ts';
import { createEventRecorder } from '../events/index.ts';
import { createDdosService } from './service.ts';
import { createNftMitigator, nftRunner } from './nft-mitigation.ts';
import { createLoggingScrubbing } from './upstream.ts';
import { meterRuleset, meterTable, observationOf, parseNftCountersJson, type MeterReading } from './nft-meter.ts';
import { mitigationTable } from './nft-rules.ts';

const canRun = process.getuid?.() === 0 && existsSync('/usr/sbin/nft');
const suffix = String(process.pid % 100000);
const ns = { host: `vd-h${suffix}`, att: `vd-a${suffix}`, leg: `vd-l${suffix}`, srv: `vd-s${suffix}` };
/** The addresses of each family: the server (victim), the legitimate client, and the links (address, peer's address, gateway). */
const plans = {
  4: {
    victim: '10.250.9.5',
    legit: '10.250.2.2',
    links: {
      att: ['10.250.1.2/24', '10.250.1.1/24', '10.250.1.1'],
      leg: ['10.250.2.2/24', '10.250.2.1/24', '10.250.2.1'],
      srv: ['10.250.9.5/24', '10.250.9.1/24', '10.250.9.1'],
    },
  },
  6: {
    victim: '2001:db8:250:9::5',
    legit: '2001:db8:250:2::2',
    links: {
      att: ['2001:db8:250:1::2/64', '2001:db8:250:1::1/64', '2001:db8:250:1::1'],
      leg: ['2001:db8:250:2::2/64', '2001:db8:250:2::1/64', '2001:db8:250:2::1'],
      srv: ['2001:db8:250:9::5/64', '2001:db8:250:9::1/64', '2001:db8:250:9::1'],
    },
  },
} as const;
const node = process.execPath;

const sh = (...argv: string[]) =>
  execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (name: string, ...argv: string[]) => sh('ip', 'netns', 'exec', name, ...argv);

function setUp(family: 4 | 6) {
  for (const name of Object.values(ns)) sh('ip', 'netns', 'add', name);
  const plan = plans[family];
  // IPv6 addresses without duplicate address detection: usable at once.
  const extra = family === 6 ? ['nodad'] : [];
  const link = (a: string, aIf: string, aAddr: string, b: string, bIf: string, bAddr: string) => {
    sh('ip', 'link', 'add', aIf, 'netns', a, 'type', 'veth', 'peer', 'name', bIf, 'netns', b);
    inNs(a, 'ip', 'addr', 'add', aAddr, 'dev', aIf, ...extra);
    inNs(b, 'ip', 'addr', 'add', bAddr, 'dev', bIf, ...extra);
    inNs(a, 'ip', 'link', 'set', aIf, 'up');
    inNs(b, 'ip', 'link', 'set', bIf, 'up');
  };
  link(ns.att, 'att0', plan.links.att[0], ns.host, 'att1', plan.links.att[1]);
  link(ns.leg, 'leg0', plan.links.leg[0], ns.host, 'leg1', plan.links.leg[1]);
  link(ns.srv, 'srv0', plan.links.srv[0], ns.host, 'srv1', plan.links.srv[1]);
  const ip = family === 6 ? ['ip', '-6'] : ['ip'];
  inNs(ns.att, ...ip, 'route', 'add', 'default', 'via', plan.links.att[2]);
  inNs(ns.leg, ...ip, 'route', 'add', 'default', 'via', plan.links.leg[2]);
  inNs(ns.srv, ...ip, 'route', 'add', 'default', 'via', plan.links.srv[2]);
  inNs(ns.host, 'sysctl', '-qw', family === 6 ? 'net.ipv6.conf.all.forwarding=1' : 'net.ipv4.ip_forward=1');
}

function tearDown() {
  for (const name of Object.values(ns)) {
    try {
      sh('ip', 'netns', 'del', name);
    } catch {
      // not created
    }
  }
}

/** A node script run inside a namespace. */
function runIn(name: string, script: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', name, node, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

// The receiver counts datagrams per source address into a file every 100 ms.
const receiver = `
const dgram = require('node:dgram'); const fs = require('node:fs');
const counts = {}; const v6 = process.argv[2] === '6'; const s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
s.on('message', (_m, r) => { counts[r.address] = (counts[r.address] || 0) + 1; });
s.bind(5000, v6 ? '::' : '0.0.0.0');
// Written aside then renamed: a reader never sees a half-written file.
setInterval(() => { fs.writeFileSync(process.argv[1] + '.tmp', JSON.stringify(counts)); fs.renameSync(process.argv[1] + '.tmp', process.argv[1]); }, 100);`;

// A sender: to the server's address only (checked), at a rate (0: as fast as it can), for a bounded time.
const sender = `
const dgram = require('node:dgram');
const [target, pps, seconds] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
if (target !== '10.250.9.5' && target !== '2001:db8:250:9::5') throw new Error('refusing to send anywhere but the test server');
const s = dgram.createSocket(target.includes(':') ? 'udp6' : 'udp4'); const payload = Buffer.alloc(64); const end = Date.now() + seconds * 1000;
let sent = 0;
function burst() {
  if (Date.now() >= end) { console.log(JSON.stringify({ sent })); s.close(); return; }
  const n = pps > 0 ? Math.max(1, Math.round(pps / 50)) : 200;
  for (let i = 0; i < n; i++) { s.send(payload, 5000, target); sent++; }
  setTimeout(burst, pps > 0 ? 20 : 0);
}
burst();`;

for (const family of [4, 6] as const)
  test(
    `IPv${family}: a bounded UDP flood in namespaces is detected, mitigated with nft (drops counted), legitimate traffic passes, the attack ends and is recorded`,
    { skip: !canRun && 'needs root and nft', timeout: 120_000 },
    async () => {
      const { victim, legit } = plans[family];
      tearDown();
      const dir = mkdtempSync(join(tmpdir(), 'ddos-netns-'));
      const database = await createTestDatabase('sqlite');
      const children: ChildProcess[] = [];
      try {
        setUp(family);
        const nft = nftRunner(ns.host);
        await nft(['-f', '-'], meterRuleset([victim]));
        const mitigator = createNftMitigator({ netns: ns.host, hook: 'forward' });
        const events = createEventRecorder({ bus: createEventBus(), clock: systemClock });
        const ddos = createDdosService({
          db: database.db,
          clock: systemClock,
          log: createLogger({ level: 'silent' }),
          events,
          mitigator,
          upstream: createLoggingScrubbing(createLogger({ level: 'silent' })),
          policyOverrides: { quietMs: 3000, perSourcePps: 500 },
        });
        const owner = {
          kind: 'project' as const,
          tokenId: 'tok_netns',
          userId: null,
          projectId: 'prj_netns',
          role: 'owner' as const,
        };
        await ddos.setTier(owner, 'enterprise');
        await ddos.setThresholds(owner, [{ address: victim, min_pps: 2000, min_bps: 2_000_000 }]);

        const counts = join(dir, 'counts.json');
        children.push(runIn(ns.srv, receiver, [counts, String(family)]));
        const received = () => {
          try {
            return JSON.parse(readFileSync(counts, 'utf8')) as Record<string, number>;
          } catch {
            return {};
          }
        };
        // The legitimate client: 50 packets/s for the whole test (bounded at 40 s).
        children.push(runIn(ns.leg, sender, [victim, '50', '40']));

        // The detector loop: read the meter every second, feed the service.
        const read = async (): Promise<MeterReading> => ({
          atMs: Date.now(),
          counters: parseNftCountersJson(await nft(['-j', 'list', 'counters', 'table', 'inet', meterTable])),
        });
        let previous = await read();
        const outcomes: Array<{ atMs: number; outcome: string; pps: number }> = [];
        const tick = async () => {
          const current = await read();
          const observation = observationOf(victim, previous, current);
          previous = current;
          const outcome = await ddos.observe({
            address: victim,
            projectId: 'prj_netns',
            serverId: null,
            detectedBy: 'fast_path',
            observation,
          });
          outcomes.push({ atMs: current.atMs, outcome, pps: Math.round(observation.pps) });
          return outcome;
        };
        const waitTicks = async (what: string, done: (outcome: string) => boolean, maxTicks: number) => {
          for (let i = 0; i < maxTicks; i++) {
            await new Promise((resolve) => setTimeout(resolve, 1000)); // the detector's own 1 s period
            if (done(await tick())) return;
          }
          throw new Error(`no ${what} after ${maxTicks} ticks: ${JSON.stringify(outcomes)}`);
        };

        // 14 calm seconds: the baseline is learned (12 observations), nothing is flagged.
        await waitTicks('warm-up', () => outcomes.length >= 14, 14);
        assert.ok(
          outcomes.every((o) => o.outcome === 'calm'),
          JSON.stringify(outcomes),
        );
        const legitBefore = received()[legit] ?? 0;
        assert.ok(legitBefore > 100, `the legitimate client got through before the flood (${legitBefore})`);

        // The flood: 5 seconds of UDP as fast as one process sends, from the attacker only.
        const floodStart = Date.now();
        const flood = runIn(ns.att, sender, [victim, '0', '5']);
        children.push(flood);
        await waitTicks('detection', (o) => o === 'started', 6);
        const detectedAfterMs = outcomes.at(-1)!.atMs - floodStart;
        assert.ok(detectedAfterMs < 6000, `detected ${detectedAfterMs} ms after the flood began`);
        const table = await nft(['list', 'table', 'inet', mitigationTable(victim)]);
        assert.match(table, /dropped_rate/);
        const legitAtDetection = received()[legit] ?? 0;
        await new Promise<void>((resolve) => flood.on('exit', () => resolve()));
        const dropped = await mitigator.dropped(victim);
        assert.ok(dropped > 0, `the mitigation's counters show drops (${dropped})`);
        // Legitimate packets kept arriving while the flood was mitigated.
        await waitTicks('the flood to stop showing', (o) => o !== 'started' && outcomes.at(-1)!.pps < 1000, 10);
        const legitAfter = received()[legit] ?? 0;
        assert.ok(
          legitAfter - legitAtDetection > 50,
          `legitimate packets during mitigation: ${legitAfter - legitAtDetection}`,
        );

        // Quiet for 3 s (the shortened quiet time): the attack ends, the table is gone, the incident recorded.
        await waitTicks('the end of the attack', (o) => o === 'ended', 10);
        await assert.rejects(nft(['list', 'table', 'inet', mitigationTable(victim)]));
        const list = await ddos.listAttacks(owner, {});
        assert.equal(list.attacks.length, 1);
        const attack = list.attacks[0];
        assert.equal(attack.status, 'ended');
        assert.equal(attack.detected_by, 'fast_path');
        assert.equal(attack.vector, 'udp_flood');
        // IPv6 is protected per /64: the incident names the server's /64.
        assert.equal(attack.address, family === 4 ? victim : '2001:db8:250:9::/64');
        assert.ok(attack.dropped_packets >= dropped, `${attack.dropped_packets} dropped`);
        assert.ok(attack.peak_pps > 2000);
        const types = (await database.db.selectFrom('events').select('type').orderBy('seq').execute()).map(
          (e) => e.type,
        );
        assert.deepEqual(
          types.filter((t) => t.startsWith('ddos.attack')),
          ['ddos.attack_started', 'ddos.attack_ended'],
        );
      } finally {
        for (const child of children) child.kill('SIGTERM');
        tearDown();
        await database.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
