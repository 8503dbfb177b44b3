/**
 * Finding 5 of the trust-boundaries issue: a delete on a dead host must not hang forever. Simulated hosts
 * join over the agent API with host tokens (test/sim-host.ts) and are stopped to die; housekeeping marks
 * them down. A server being deleted there stays `deleting`; `evacuate` moves the others to live hosts where
 * they run; `forget`, confirmed by the host's name, finishes the pending deletes (quota given back), puts
 * the other servers in `error`, removes the host and revokes its host token; both refuse a host that is up;
 * a server whose host was forgotten is deleted at once.
 *
 * The control plane runs on a manual clock: a host is down once the clock has moved past
 * `hostDownAfterMs` since its last heartbeat, whatever the machine's load.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createManualClock, VmcError } from '../src/core/index.ts';
import { createClient } from '../src/client/index.ts';
import {
  createHostToken,
  createServer,
  deleteServer,
  evacuateHost,
  forgetHost,
  getHost,
  getProject,
  getServer,
  listHostTokens,
  listHosts,
  type ProjectCounts,
} from '../src/contract/index.ts';
import { runCli, saveProfile, type CliIo } from '../src/cli/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';
import { startSimHost, type SimHost } from './sim-host.ts';

const hostDownAfterMs = 1000;

async function refusal(promise: Promise<unknown>): Promise<{ status: number; reason?: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VmcError) return { status: Number(error.details?.status), reason: error.reason };
    throw error;
  }
  throw new Error('expected the call to be refused');
}

for (const dialect of testDialects()) {
  describe(`dead hosts: evacuate and forget (${dialect})`, () => {
    const clock = createManualClock(Date.now());
    let t: TestControlPlane;
    const simHosts: SimHost[] = [];
    const hostTokens = new Map<string, { id: string; secret: string }>();
    const servers = new Map<string, string>(); // name → id
    let usageBefore: ProjectCounts;
    let fraDead: SimHost;
    let parDead: SimHost;
    let fraLive: SimHost;

    const owner = () => createClient({ baseUrl: t.url, token: t.secrets.projectToken });
    const operator = () => createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
    const statusOf = async (name: string) =>
      (await owner().call(getServer, { params: { id: servers.get(name)! } })).server.status;

    async function joinHost(name: string, region: string): Promise<SimHost> {
      const created = await operator().call(createHostToken, { body: { name } });
      const agentUrl = t.cp.agentListener.url ?? (await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 }));
      const host = await startSimHost({
        agentUrl,
        caSha256: created.ca_sha256,
        hostToken: created.secret,
        name,
        region,
      });
      simHosts.push(host);
      hostTokens.set(host.hostId, { id: created.token.id, secret: created.secret });
      return host;
    }

    async function createRunning(names: string[], region: string) {
      for (const name of names) {
        const { server } = await owner().call(createServer, {
          body: { name, product: 'vps-starter', region, image: 'debian-12' },
        });
        servers.set(name, server.id);
      }
      for (const name of names) await until(`${name} running`, async () => (await statusOf(name)) === 'running');
    }

    /** `vmcloud --profile operator …` against this control plane. */
    async function operatorCli(...argv: string[]) {
      const env = { VMCLOUD_CONFIG: join(t.dataDir, 'cli-config.json') };
      await saveProfile({ name: 'operator', url: t.url, token: t.secrets.operatorToken }, env);
      let stdout = '';
      let stderr = '';
      const io: CliIo = {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        env,
        isTTY: false,
      };
      const code = await runCli(['--profile', 'operator', ...argv], io);
      return { code, stdout, stderr };
    }

    before(async () => {
      t = await startTestControlPlane(dialect, {
        fleet: 'none',
        clock,
        hostDownAfterMs,
        // Housekeeping runs when the test says so.
        loopIntervalMs: 3_600_000,
      });
      // Each dead host is the only host of its region when its servers are created: they land on it.
      fraDead = await joinHost('fra1-dead-001', 'fra1');
      await createRunning(['fra-del', 'fra-1', 'fra-2'], 'fra1');
      parDead = await joinHost('par1-dead-001', 'par1');
      await createRunning(['par-del', 'par-keep'], 'par1');
      fraLive = await joinHost('fra1-live-001', 'fra1');
      usageBefore = (await owner().call(getProject)).project.usage;

      await fraDead.stop();
      await parDead.stop();
      clock.advanceMs(2 * hostDownAfterMs);
      // The live host's agent heartbeats on its own; once here, so that the pass below sees it fresh.
      await t.cp.services.inventory.heartbeat(fraLive.hostId);
      await t.cp.housekeeping();
    });
    after(async () => {
      for (const host of simHosts) await host.stop().catch(() => {});
      await t?.dispose();
    });

    test('the stopped hosts are down, the live one up; evacuate and forget refuse a host that is up (409 host_up)', async () => {
      const health = async (host: SimHost) =>
        (await operator().call(getHost, { params: { id: host.hostId } })).host.health;
      assert.equal(await health(fraDead), 'down');
      assert.equal(await health(parDead), 'down');
      assert.equal(await health(fraLive), 'up');
      assert.deepEqual(await refusal(operator().call(evacuateHost, { params: { id: fraLive.hostId } })), {
        status: 409,
        reason: 'host_up',
      });
      assert.deepEqual(
        await refusal(
          operator().call(forgetHost, { params: { id: fraLive.hostId }, body: { confirm: 'fra1-live-001' } }),
        ),
        { status: 409, reason: 'host_up' },
      );
    });

    test('a delete on a down host stays deleting', async () => {
      for (const name of ['fra-del', 'par-del']) {
        const { action } = await owner().call(deleteServer, { params: { id: servers.get(name)! } });
        assert.equal(action.status, 'running');
        assert.equal(await statusOf(name), 'deleting');
      }
      await t.cp.housekeeping();
      assert.equal(await statusOf('fra-del'), 'deleting');
      assert.equal(await statusOf('par-del'), 'deleting');
    });

    test('evacuate (CLI) moves the servers of the dead host to the live one, where they run', async () => {
      const { code, stdout, stderr } = await operatorCli('host', 'evacuate', fraDead.hostId, '-o', 'json');
      assert.equal(code, 0, stderr + stdout);
      const report = JSON.parse(stdout) as { moved: Array<{ server_id: string; placement: { host_id: string } }> };
      for (const name of ['fra-1', 'fra-2']) {
        const move = report.moved.find((m) => m.server_id === servers.get(name));
        assert.ok(move, `${name} moved: ${stdout}`);
        assert.equal(move.placement.host_id, fraLive.hostId);
      }
      for (const name of ['fra-1', 'fra-2'])
        await until(`${name} running on the live host`, async () => (await statusOf(name)) === 'running');
      const rows = await t.cp.db
        .selectFrom('servers')
        .select(['name', 'host_id'])
        .where('name', 'in', ['fra-1', 'fra-2'])
        .execute();
      assert.deepEqual(
        rows.map((r) => r.host_id),
        [fraLive.hostId, fraLive.hostId],
      );
      await until('the live host runs them', () => fraLive.instanceCount() >= 2);
      // The server being deleted moved too, and its delete finished on the live host.
      assert.ok(
        report.moved.some((m) => m.server_id === servers.get('fra-del')),
        'the deleting server moved',
      );
      await until(
        'the delete of fra-del to finish',
        async () => (await t.call('GET', `/v1/servers/${servers.get('fra-del')}`)).status === 404,
      );
    });

    test('forget needs the host name; then pending deletes finish, the other servers are in error, the host and its token are gone', async () => {
      const cliRefused = await operatorCli('host', 'forget', parDead.hostId, '--confirm', 'fra1-dead-001');
      assert.equal(cliRefused.code, 2, 'the CLI refuses another host name (invalid)');
      assert.match(cliRefused.stderr, /confirm with the host's name \(par1-dead-001\)/);
      const refused = await refusal(
        operator().call(forgetHost, { params: { id: parDead.hostId }, body: { confirm: 'par1-dead-002' } }),
      );
      assert.deepEqual(refused, { status: 400, reason: 'confirmation_mismatch' });
      assert.equal(await statusOf('par-del'), 'deleting', 'a refused forget changes nothing');

      const forgotten = await operator().call(forgetHost, {
        params: { id: parDead.hostId },
        body: { confirm: 'par1-dead-001' },
      });
      assert.equal(forgotten.host_id, parDead.hostId);
      assert.deepEqual(forgotten.deleted, [servers.get('par-del')]);
      assert.deepEqual(forgotten.lost, [servers.get('par-keep')]);

      assert.equal(
        (await t.call('GET', `/v1/servers/${servers.get('par-del')}`)).status,
        404,
        'the pending delete finished',
      );
      // Quota given back for par-del (and for fra-del, whose delete finished after the evacuation).
      const usage = (await owner().call(getProject)).project.usage;
      const starterVcpus = 2;
      assert.deepEqual(usage, {
        servers: usageBefore.servers - 2,
        vcpus: usageBefore.vcpus - 2 * starterVcpus,
        gpus: usageBefore.gpus,
        volumes: usageBefore.volumes,
        volume_gib: usageBefore.volume_gib,
        custom_images: usageBefore.custom_images,
      });

      const keep = (await owner().call(getServer, { params: { id: servers.get('par-keep')! } })).server;
      assert.equal(keep.status, 'error');
      assert.match(keep.error ?? '', /forgotten/);

      assert.ok(!(await operator().call(listHosts)).hosts.some((h) => h.id === parDead.hostId), 'host gone');
      assert.equal(
        (await t.call('GET', `/v1/hosts/${parDead.hostId}`, { token: t.secrets.operatorToken })).status,
        404,
      );
      const token = hostTokens.get(parDead.hostId)!;
      assert.ok(!(await operator().call(listHostTokens)).tokens.some((tok) => tok.id === token.id), 'token revoked');
      assert.equal((await t.call('GET', '/v1/regions', { token: token.secret })).status, 401);
    });

    test('deleting a server whose host was forgotten finishes at once', async () => {
      const before = (await owner().call(getProject)).project.usage;
      const { action } = await owner().call(deleteServer, { params: { id: servers.get('par-keep')! } });
      assert.equal(action.status, 'success');
      assert.equal((await t.call('GET', `/v1/servers/${servers.get('par-keep')}`)).status, 404);
      const after = (await owner().call(getProject)).project.usage;
      assert.equal(after.servers, before.servers - 1);
      assert.equal(after.vcpus, before.vcpus - 2);
    });
  });
}
