import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realQemuSkipReason } from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { instancePaths } from '../src/compute/drivers/qemu/instance-paths.ts';
import { buildTestGuest, createImageStore, importTestImage, guestMarkers } from '../src/images/index.ts';
import { startTestControlPlane, until } from './helpers.ts';
import { stopProcess } from './serve-process.ts';
import { startLocalQemuHost } from '../src/daemons/local-host.ts';

const root = new URL('..', import.meta.url).pathname;
const skip = await realQemuSkipReason();

/** QEMU processes running the guest of `serverId` (its -name guest=<id>). */
function qemuProcessesOf(serverId: string): number[] {
  let out: string;
  try {
    out = execFileSync('pgrep', ['-f', `guest=${serverId}`], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out.split('\n').filter(Boolean).map(Number);
}

/** Host thread each vCPU thread of a QEMU process may run on (from /proc, by thread name `CPU n/…`). */
function vcpuAffinity(pid: number): Map<number, string> {
  const affinity = new Map<number, string>();
  for (const tid of execFileSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)) {
    const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    const match = /^CPU (\d+)\//.exec(comm);
    if (!match) continue;
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    affinity.set(Number(match[1]), /Cpus_allowed_list:\s*(\S+)/.exec(status)![1]);
  }
  return affinity;
}

test(
  'real QEMU end to end: an agent joins over mutual TLS; a server boots a real guest pinned to its claimed threads; console, logs, snapshot and export through the API; stop, start, delete; kill -9 of the agent mid-boot leaves one QEMU',
  { skip: skip || undefined, timeout: 240_000 },
  async () => {
    const work = mkdtempSync('/tmp/vq-');
    const imageDir = join(work, 'images');
    const stateDir = join(work, 'a');
    const store = createImageStore({ dir: imageDir });
    await importTestImage(store, await buildTestGuest({ outDir: join(work, 'build') }));

    const t = await startTestControlPlane('sqlite', { fleet: 'none' });
    const agentUrl = await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 });
    let agent: ChildProcess | null = null;
    /** The agent joins with the token the first time, restarts with its stored certificate afterwards. */
    const startAgent = (joinToken: string | null) =>
      spawn(
        process.execPath,
        [
          join(root, 'bin/vmcloud.ts'),
          'agent',
          '--control-plane',
          agentUrl,
          '--ca-sha256',
          t.cp.hostTrust.caFingerprintSha256,
          '--region',
          'fra1',
          '--driver',
          'qemu',
          '--name',
          'fra1-local-qemu',
          '--state-dir',
          stateDir,
          '--image-dir',
          imageDir,
          '--network',
          'off',
          '--reserved-cores',
          '0',
          '--log-level',
          'warn',
        ],
        {
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { ...process.env, VMCLOUD_JOIN_TOKEN: joinToken ?? undefined, VMCLOUD_HOST_TOKEN: undefined },
        },
      );
    try {
      const hostToken = (
        await t.call('POST', '/v1/host-tokens', { token: t.secrets.operatorToken, body: { name: 'qemu-e2e' } })
      ).body.secret;
      agent = startAgent(hostToken);
      const host = await until(
        'registration',
        async () => (await t.call('GET', '/v1/hosts', { token: t.secrets.operatorToken })).body.hosts[0],
        60_000,
      );
      assert.equal(host.driver, 'qemu');
      assert.ok(host.topology.threads >= 1);
      // The control plane reaches the host API over HTTPS, checking the host's certificate.
      await until('the host API address', async () =>
        /^https:\/\//.test((await t.cp.services.inventory.hostApiOf(host.id))?.address ?? ''),
      );

      // Boot a real guest.
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'real-1', product: 'vps-nano', region: 'fra1', image: 'vmcloud-test' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const serverId = created.body.server.id;
      const action = await t.waitForAction(created.body.action.id, undefined, 90_000);
      assert.equal(action.status, 'success', JSON.stringify(action));
      const paths = instancePaths(stateDir, serverId);
      // A deadline, not a measurement: a loaded 2-core machine boots a TCG guest slowly.
      await until(
        'guest userspace on the console',
        () => existsSync(paths.consoleLog) && readFileSync(paths.consoleLog, 'utf8').includes(guestMarkers.userspace),
        60_000,
      );
      // The NoCloud seed was applied (hostname) and acpid runs, so the stop below is a graceful ACPI one.
      await until('guest ready', () => readFileSync(paths.consoleLog, 'utf8').includes(guestMarkers.ready));
      assert.match(readFileSync(paths.consoleLog, 'utf8'), new RegExp(`${guestMarkers.hostname} real-1`));

      // Its vCPU threads are pinned to the host threads the scheduler claimed.
      const allocation = await t.cp.db
        .selectFrom('allocations')
        .selectAll()
        .where('server_id', '=', serverId)
        .executeTakeFirstOrThrow();
      const claimed = JSON.parse(allocation.threads_json) as number[];
      const [pid] = qemuProcessesOf(serverId);
      assert.ok(pid, 'a QEMU process runs the guest');
      const affinity = vcpuAffinity(pid);
      assert.equal(affinity.size, claimed.length);
      claimed.forEach((thread, vcpu) =>
        assert.equal(affinity.get(vcpu), String(thread), `vCPU ${vcpu} pinned to host thread ${thread}`),
      );

      // The serial console streams over a WebSocket with a short-lived ticket; the boot log is kept.
      const ticket = await t.call('POST', `/v1/servers/${serverId}/console`);
      assert.equal(ticket.status, 201, JSON.stringify(ticket.body));
      const seen = await new Promise<string>((resolve, reject) => {
        const socket = new WebSocket(t.url.replace('http', 'ws') + ticket.body.url);
        socket.binaryType = 'arraybuffer';
        let text = '';
        const timer = setTimeout(
          () => reject(new Error(`no userspace marker on the console: ${text.slice(-300)}`)),
          30_000,
        );
        socket.onmessage = (event) => {
          text += typeof event.data === 'string' ? event.data : Buffer.from(event.data as ArrayBuffer).toString();
          if (text.includes(guestMarkers.userspace)) {
            clearTimeout(timer);
            socket.close();
            resolve(text);
          }
        };
        socket.onerror = () => reject(new Error('console WebSocket failed'));
      });
      assert.match(seen, new RegExp(guestMarkers.userspace));
      const reused = await t.call('GET', `${ticket.body.url}`, { token: null });
      assert.ok(reused.status >= 400, 'a console ticket is single-use');
      const logs = await t.call('GET', `/v1/servers/${serverId}/logs`);
      assert.equal(logs.status, 200);
      assert.match(String(logs.body), new RegExp(guestMarkers.userspace));

      // Snapshot of the running server, listed, exported to a qcow2 file, deleted.
      const snapshot = await t.call('POST', `/v1/servers/${serverId}/snapshots`, { body: { name: 'before-stop' } });
      assert.equal(snapshot.status, 201, JSON.stringify(snapshot.body));
      assert.deepEqual(
        (await t.call('GET', `/v1/servers/${serverId}/snapshots`)).body.snapshots.map((x: { name: string }) => x.name),
        ['before-stop'],
      );
      const exported = await fetch(`${t.url}/v1/servers/${serverId}/export?format=qcow2`, {
        headers: { authorization: `Bearer ${t.secrets.projectToken}` },
      });
      assert.equal(exported.status, 200);
      const exportFile = join(work, 'real-1.qcow2');
      writeFileSync(exportFile, Buffer.from(await exported.arrayBuffer()));
      const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', exportFile], { encoding: 'utf8' }));
      assert.equal(info.format, 'qcow2');
      assert.equal(info['backing-filename'], undefined, 'the export stands alone: no backing file');
      assert.equal((await t.call('DELETE', `/v1/servers/${serverId}/snapshots/before-stop`)).status, 204);

      // Stop (ACPI) and start again.
      for (const [command, status] of [
        ['stop', 'stopped'],
        ['start', 'running'],
      ] as const) {
        const response = await t.call('POST', `/v1/servers/${serverId}/actions/${command}`);
        assert.equal((await t.waitForAction(response.body.action.id, undefined, 90_000)).status, 'success', command);
        assert.equal((await t.call('GET', `/v1/servers/${serverId}`)).body.server.status, status);
      }
      assert.equal(qemuProcessesOf(serverId).length, 1);

      // kill -9 the agent while a second server boots; a new agent finishes the boot with one QEMU process.
      const second = await t.call('POST', '/v1/servers', {
        body: { name: 'real-2', product: 'vps-nano', region: 'fra1', image: 'vmcloud-test' },
      });
      assert.equal(second.status, 202, JSON.stringify(second.body));
      await until('second QEMU spawned', () => qemuProcessesOf(second.body.server.id).length > 0);
      await stopProcess(agent, 'SIGKILL');
      agent = startAgent(null);
      assert.equal((await t.waitForAction(second.body.action.id, undefined, 90_000)).status, 'success');
      assert.equal(
        qemuProcessesOf(second.body.server.id).length,
        1,
        'exactly one QEMU process after the agent restart',
      );
      assert.equal(qemuProcessesOf(serverId).length, 1, 'the first guest kept running, not rebooted twice');

      // Delete: process and disk gone.
      for (const id of [serverId, second.body.server.id]) {
        const deleted = await t.call('DELETE', `/v1/servers/${id}`);
        assert.equal((await t.waitForAction(deleted.body.action.id, undefined, 90_000)).status, 'success');
        assert.deepEqual(qemuProcessesOf(id), []);
        assert.equal(existsSync(instancePaths(stateDir, id).disk), false);
      }
    } finally {
      if (agent) await stopProcess(agent);
      for (const pid of qemuProcessesOf('srv_')) process.kill(pid, 'SIGKILL');
      await t.dispose();
      rmSync(work, { recursive: true, force: true });
    }
  },
);

test(
  'serve --local-host qemu: the in-process host serves its host API over the same mutual TLS (a certificate for its host id from the CA); logs through the API',
  { skip: skip || undefined, timeout: 180_000 },
  async () => {
    const work = mkdtempSync('/tmp/vl-');
    const imageDir = join(work, 'images');
    const store = createImageStore({ dir: imageDir });
    await importTestImage(store, await buildTestGuest({ outDir: join(work, 'build') }));
    const t = await startTestControlPlane('sqlite', { fleet: 'none', hostAddressPolicy: 'routable-only' });
    const local = await startLocalQemuHost(t.cp, {
      region: 'fra1',
      dataDir: t.dataDir,
      imageDir,
      network: false,
      reservedCoresPerNode: 0,
    });
    let serverId: string | null = null;
    try {
      const endpoint = await t.cp.services.inventory.hostApiOf(local.hostId);
      assert.match(endpoint?.address ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
      const certificates = await t.cp.hostTrust.certificates.listForHost(local.hostId);
      assert.equal(certificates.length, 1, 'its certificate is in the register');
      await t.cp.services.scheduler.reload();
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'local-1', product: 'vps-nano', region: 'fra1', image: 'vmcloud-test' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      serverId = created.body.server.id;
      assert.equal((await t.waitForAction(created.body.action.id, undefined, 90_000)).status, 'success');
      const logs = await until(
        'the boot log through the API',
        async () => {
          const answer = await t.call('GET', `/v1/servers/${serverId}/logs`);
          return answer.status === 200 && String(answer.body).includes(guestMarkers.userspace) ? answer : null;
        },
        60_000,
      );
      assert.equal(logs.headers.get('content-type'), 'text/plain; charset=utf-8');
      const deleted = await t.call('DELETE', `/v1/servers/${serverId}`);
      assert.equal((await t.waitForAction(deleted.body.action.id, undefined, 90_000)).status, 'success');
      serverId = null;
    } finally {
      await local.stop();
      if (serverId) for (const pid of qemuProcessesOf(serverId)) process.kill(pid, 'SIGKILL');
      await t.dispose();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
