/**
 * Finding 2 of the trust-boundaries issue: a host cannot crash the control plane with its topology.
 * A registration whose topology breaks the contract's bounds or the consistency checks is refused (400)
 * and stores nothing; a host row corrupted in the database is quarantined at the next start (unusable,
 * with the reason, an event), and the control plane runs and places servers on the other hosts.
 *
 * Registrations go through the inventory service (what the agent listener calls) and the contract's
 * topology schema (what the agent listener validates bodies with), not through `/v1/agent/…`, whose
 * transport is being rewritten.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Compile } from 'typebox/compile';
import { RegisterHostBody, createServer, getHost, listHosts } from '../src/contract/index.ts';
import { createClient } from '../src/client/index.ts';
import { httpStatusOf, toVmcError } from '../src/core/index.ts';
import { hostShapes, topologyOfShape } from '../src/inventory/index.ts';
import type { BootstrapSecrets } from '../src/app.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

const registrationSchema = Compile(RegisterHostBody);
/** A registration body as an agent sends it, around `topology`. */
const registrationBody = (name: string, topology: unknown) => ({
  name,
  region: 'fra1',
  driver: 'sim',
  cpu_model: 'AMD EPYC 7543',
  topology,
  agent_version: 'test',
  address: null,
});

/** A valid topology to break: the seed's standard shape (2 NUMA nodes, SR-IOV NICs). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function goodTopology(): any {
  return structuredClone(topologyOfShape(hostShapes['std-7543']));
}

const badRegistrations: Array<{ name: string; topology: () => unknown; refusedBy: 'schema' | 'checks' }> = [
  {
    name: 'a topology without nics',
    topology: () => {
      const t = goodTopology();
      delete t.nics;
      return t;
    },
    refusedBy: 'schema',
  },
  {
    name: '5,000 threads',
    topology: () => {
      const t = goodTopology();
      t.numaNodes = [
        {
          id: 0,
          memoryMiB: 1024 * 1024,
          cores: Array.from({ length: 2500 }, (_, c) => ({ id: c, threads: [c, c + 2500] })),
        },
      ];
      t.reservedThreads = [];
      t.gpus = [];
      t.nics = [];
      return t;
    },
    refusedBy: 'schema',
  },
  {
    name: 'a thread on two cores',
    topology: () => {
      const t = goodTopology();
      t.numaNodes[1].cores[0].threads[0] = t.numaNodes[0].cores[0].threads[0];
      return t;
    },
    refusedBy: 'checks',
  },
  {
    name: 'a GPU on an absent NUMA node',
    topology: () => {
      const t = goodTopology();
      t.gpus = [{ pciAddress: '0000:41:00.0', model: 'NVIDIA T4', numaNode: 7, iommuGroup: 12 }];
      return t;
    },
    refusedBy: 'checks',
  },
];

for (const dialect of testDialects()) {
  describe(`host topologies cannot crash the control plane (${dialect})`, () => {
    // One data dir and one PostgreSQL schema for both starts of the control plane.
    const dataDir = mkdtempSync(join(tmpdir(), 'vmcloud-topology-'));
    const sameData = {
      dataDir,
      databaseUrl: dialect === 'postgres' ? process.env.TEST_DATABASE_URL! : join(dataDir, 'vmcloud.sqlite'),
      pgSchema: dialect === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined,
    };
    let t: TestControlPlane;
    let secrets: BootstrapSecrets;

    before(async () => {
      t = await startTestControlPlane(dialect, sameData);
      secrets = t.secrets;
    });
    after(async () => {
      await t?.dispose(); // drops the schema and the data dir given above
      rmSync(dataDir, { recursive: true, force: true });
    });

    const operator = () => createClient({ baseUrl: t.url, token: secrets.operatorToken });

    for (const bad of badRegistrations) {
      test(`registration with ${bad.name}: 400, nothing stored`, async () => {
        const before = await operator().call(listHosts);
        const topology = bad.topology();
        const name = `evil-${bad.name.replace(/\W+/g, '-')}`;
        assert.ok(registrationSchema.Check(registrationBody(name, goodTopology())), 'the unbroken body passes');
        // The agent listener validates the body against the contract's schema first (400 when it fails).
        assert.equal(registrationSchema.Check(registrationBody(name, topology)), bad.refusedBy === 'checks', 'schema');
        if (bad.refusedBy === 'checks') {
          const refused = await t.cp.services.inventory
            .registerHost(
              { kind: 'local' },
              {
                name,
                region: 'fra1',
                driver: 'sim',
                cpuModel: 'AMD EPYC 7543',
                topology: topology as never,
                agentVersion: 'test',
                address: null,
              },
            )
            .then(
              () => null,
              (error: unknown) => toVmcError(error),
            );
          assert.ok(refused, 'the registration was accepted');
          assert.equal(httpStatusOf[refused.code], 400, refused.message);
          assert.equal(refused.reason, 'invalid_registration');
        }
        const after = await operator().call(listHosts);
        assert.deepEqual(
          after.hosts.map((h) => h.id),
          before.hosts.map((h) => h.id),
        );
      });
    }

    test('host rows corrupted in the database are quarantined at the next start; the control plane runs and places elsewhere', async () => {
      const fra1 = (await operator().call(listHosts, { query: { region: 'fra1' } })).hosts.filter(
        (h) => h.kind === 'standard',
      );
      assert.ok(fra1.length >= 5, 'the seed fleet has standard hosts in fra1');
      const [notJson, threadTwice, gpuNowhere, noNics] = fra1;
      const corrupt = async (hostId: string, topologyJson: string) =>
        t.cp.db.updateTable('hosts').set({ topology_json: topologyJson }).where('id', '=', hostId).execute();
      await corrupt(notJson.id, '{"sockets": 2, "numaNodes": [');
      const twice = goodTopology();
      twice.numaNodes[1].cores[0].threads[0] = twice.numaNodes[0].cores[0].threads[0];
      await corrupt(threadTwice.id, JSON.stringify(twice));
      const nowhere = goodTopology();
      nowhere.gpus = [{ pciAddress: '0000:41:00.0', model: 'NVIDIA T4', numaNode: 9, iommuGroup: 3 }];
      await corrupt(gpuNowhere.id, JSON.stringify(nowhere));
      const missing = goodTopology();
      delete missing.nics;
      await corrupt(noNics.id, JSON.stringify(missing));
      const corrupted = [notJson, threadTwice, gpuNowhere, noNics].map((h) => h.id);

      // Restart on the same data.
      await t.cp.close();
      t = await startTestControlPlane(dialect, sameData);
      assert.equal((await t.call('GET', '/healthz', { token: null })).status, 200);

      const client = operator();
      for (const hostId of corrupted) {
        const { host } = await client.call(getHost, { params: { id: hostId } });
        assert.equal(host.health, 'unusable', hostId);
        assert.ok(host.health_reason && host.health_reason.length > 0, `${hostId} has a reason`);
      }
      assert.match((await client.call(getHost, { params: { id: notJson.id } })).host.health_reason!, /JSON/);
      assert.match((await client.call(getHost, { params: { id: threadTwice.id } })).host.health_reason!, /two cores/);
      assert.match(
        (await client.call(getHost, { params: { id: gpuNowhere.id } })).host.health_reason!,
        /NUMA node 9 does not exist/,
      );
      const listed = await client.call(listHosts, { query: { region: 'fra1' } });
      assert.deepEqual(
        listed.hosts
          .filter((h) => h.health === 'unusable')
          .map((h) => h.id)
          .sort(),
        [...corrupted].sort(),
      );
      // Read from the table: the ordered stream (GET /v1/events) is tested elsewhere, and on a shared
      // PostgreSQL any long transaction of another test would hold it back.
      const quarantinedEvents = await t.cp.db
        .selectFrom('events')
        .select(['resource_id', 'data_json'])
        .where('type', '=', 'host.quarantined')
        .execute();
      assert.deepEqual(quarantinedEvents.map((e) => e.resource_id).sort(), [...corrupted].sort());
      for (const event of quarantinedEvents) assert.ok(JSON.parse(event.data_json).reason, 'the event says why');

      // Servers still get placed, on the other hosts of the region, and run.
      const owner = createClient({ baseUrl: t.url, token: secrets.projectToken });
      const placed: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { server } = await owner.call(createServer, {
          body: { name: `after-quarantine-${i}`, product: 'vps-starter', region: 'fra1', image: 'debian-12' },
        });
        placed.push(server.id);
      }
      const rows = await t.cp.db.selectFrom('servers').select(['id', 'host_id']).where('id', 'in', placed).execute();
      assert.equal(rows.length, placed.length);
      for (const row of rows) assert.ok(row.host_id && !corrupted.includes(row.host_id), `placed on ${row.host_id}`);
      for (const id of placed) {
        await until(`server ${id} running`, async () => {
          const shown = await t.call('GET', `/v1/servers/${id}`, { token: secrets.projectToken });
          return shown.body.server.status === 'running';
        });
      }
    });
  });
}
