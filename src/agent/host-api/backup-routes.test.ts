/**
 * Backup and restore jobs through the host API and its client, over real mutual TLS on 127.0.0.1, against
 * a fake driver whose backups finish when the test says so: the POST answers at once, the client polls to
 * the outcome, a retried start joins the running job, failures keep their code, bad bodies are refused
 * before the driver is called, a lost job is `host_job_lost`, and the repository password reaches the
 * driver but no log line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { conflict, isVmcError } from '../../core/errors.ts';
import { createLogger } from '../../core/log.ts';
import type { BackupOutcome, HostBackupRequest, HostRestoreRequest } from '../../backups/index.ts';
import { createKeyAndCsr, issueControlPlaneCertificate, issueHostCertificate } from '../../pki/index.ts';
import { testAuthority } from '../../pki/test-support.ts';
import { createHostClient, type HostClient } from '../host-client/index.ts';
import { createHostApi, type HostApi } from './index.ts';
import type { HostFeatureDriver } from './feature-driver.ts';
import type { HostBackupDriver } from './feature-driver.ts';

const password = 'correct-horse-battery-staple-7f3a';
const repo = (region: string) => ({ region, url: `/srv/backups/${region}`, password });

/** A driver with host features that are not used here, and backups that wait for `release(id)`. */
function fakeBackupDriver() {
  const waiting = new Map<string, () => void>();
  const calls: { kind: string; serverId: string; request: HostBackupRequest | HostRestoreRequest }[] = [];
  const gate = (id: string) => new Promise<void>((resolve) => waiting.set(id, resolve));
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  const driver: HostFeatureDriver & HostBackupDriver = {
    attachConsole: unused,
    consoleLog: unused,
    createSnapshot: unused,
    listSnapshots: unused,
    restoreSnapshot: unused,
    deleteSnapshot: unused,
    exportDisk: unused,
    pinning: unused,
    async backupDisk(serverId, request): Promise<BackupOutcome> {
      calls.push({ kind: 'backup', serverId, request });
      if (serverId === 'srv_busy') throw conflict('a snapshot is being taken', { reason: 'busy' });
      if (serverId === 'srv_broken') throw new Error('restic: repository is locked\nstack line');
      await gate(request.backupId);
      return {
        kind: request.parentSnapshot ? 'incremental' : 'full',
        consistency: 'crash',
        diskBytes: 1024,
        readBytes: request.parentSnapshot ? 16 : 1024,
        volumes: [],
        storedBytes: 10,
        durationMs: 5,
        takenAtMs: 1_700_000_000_000,
        localSnapshot: 'aaaaaaaa11112222',
        remoteSnapshot: request.remote ? 'bbbbbbbb33334444' : null,
      };
    },
    async restoreDisk(serverId, request) {
      calls.push({ kind: 'restore', serverId, request });
      await gate(request.restoreId);
      return { durationMs: 42 };
    },
  };
  const release = async (id: string) => {
    const deadline = Date.now() + 5000;
    while (!waiting.has(id)) {
      if (Date.now() > deadline) throw new Error(`job ${id} never reached the driver`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    waiting.get(id)!();
  };
  return { driver, calls, release };
}

const rejectsWith = (code: string, reason?: string) => (error: unknown) => {
  assert.ok(isVmcError(error), `expected a VmcError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (reason !== undefined) assert.equal(error.reason, reason);
  return true;
};

let api: HostApi;
let client: HostClient;
let fake: ReturnType<typeof fakeBackupDriver>;
let logText = '';
let baseUrl: string;
const tls = { ca: '', hostCert: '', hostKey: '', cpCert: '', cpKey: '' };
const hostId = 'host_backups';

before(async () => {
  const ca = await testAuthority();
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
  const { certPem } = await issueHostCertificate(ca, csrPem, { hostId, nowMs: Date.now() });
  const cp = await issueControlPlaneCertificate(ca, { nowMs: Date.now(), serverAuth: true });
  fake = fakeBackupDriver();
  Object.assign(tls, { ca: ca.certPem, hostCert: certPem, hostKey: keyPem, cpCert: cp.certPem, cpKey: cp.keyPem });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logText += chunk.toString();
      callback();
    },
  });
  api = createHostApi({
    driver: fake.driver,
    imageStore: null,
    tls: { caPem: ca.certPem, certPem, keyPem },
    log: createLogger({ level: 'debug', destination }),
  });
  baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
  client = createHostClient({
    baseUrl,
    hostId,
    tls: { caPem: ca.certPem, certPem: cp.certPem, keyPem: cp.keyPem },
    jobPollMs: 10,
  });
});

after(async () => {
  await api.close();
});

test('a backup is a job: started at once, polled to its outcome; a retried start joins it; a restore likewise', async () => {
  assert.equal((await client.info()).features.backups, true);
  const request: HostBackupRequest = {
    backupId: 'bkp_one',
    parentSnapshot: null,
    local: repo('fra1'),
    remote: repo('ams1'),
  };
  const first = client.backupDisk('srv_a', request);
  const again = client.backupDisk('srv_a', request);
  const job = await (async () => {
    for (;;) {
      const found = await client.job('bkp_one');
      if (found) return found;
    }
  })();
  assert.equal(job.status, 'running');
  assert.equal(job.kind, 'backup');
  assert.equal(job.server_id, 'srv_a');
  await fake.release('bkp_one');
  const [outcome, joined] = await Promise.all([first, again]);
  assert.deepEqual(outcome, joined);
  assert.equal(outcome.kind, 'full');
  assert.equal(outcome.localSnapshot, 'aaaaaaaa11112222');
  assert.equal(outcome.remoteSnapshot, 'bbbbbbbb33334444');
  assert.equal(outcome.takenAtMs, 1_700_000_000_000);
  assert.equal(fake.calls.filter((c) => c.kind === 'backup' && c.serverId === 'srv_a').length, 1, 'ran once');
  // The driver got the request as sent, passwords included.
  assert.deepEqual(fake.calls[0].request, request);
  const done = await client.job('bkp_one');
  assert.equal(done?.status, 'succeeded');

  const restore = client.restoreDisk('srv_b', {
    restoreId: 'rst_one',
    snapshot: 'aaaaaaaa11112222',
    repository: repo('fra1'),
  });
  await fake.release('rst_one');
  assert.deepEqual(await restore, { durationMs: 42 });
});

test('a failed job keeps its code and reason; another error is internal with its first line only', async () => {
  await assert.rejects(
    client.backupDisk('srv_busy', { backupId: 'bkp_busy', parentSnapshot: null, local: repo('fra1'), remote: null }),
    rejectsWith('conflict', 'busy'),
  );
  await assert.rejects(
    client.backupDisk('srv_broken', {
      backupId: 'bkp_broken',
      parentSnapshot: null,
      local: repo('fra1'),
      remote: null,
    }),
    (error: unknown) => {
      rejectsWith('internal')(error);
      assert.match((error as Error).message, /repository is locked/);
      assert.doesNotMatch((error as Error).message, /stack line/);
      return true;
    },
  );
  // The same id for another server is refused, not joined.
  await assert.rejects(
    client.backupDisk('srv_other', { backupId: 'bkp_busy', parentSnapshot: null, local: repo('fra1'), remote: null }),
    rejectsWith('conflict', 'job_id_taken'),
  );
});

test('bad requests are refused before the driver runs; an unknown job is null (404)', async () => {
  const before = fake.calls.length;
  const bad: [string, unknown][] = [
    ['backup_id', { backupId: '../x', parentSnapshot: null, local: repo('fra1'), remote: null }],
    ['parent_snapshot', { backupId: 'bkp_x', parentSnapshot: 'not hex!', local: repo('fra1'), remote: null }],
    [
      'local.password',
      { backupId: 'bkp_x', parentSnapshot: null, local: { ...repo('fra1'), password: '' }, remote: null },
    ],
    [
      'remote.url',
      { backupId: 'bkp_x', parentSnapshot: null, local: repo('fra1'), remote: { ...repo('ams1'), url: '' } },
    ],
  ];
  for (const [field, request] of bad)
    await assert.rejects(client.backupDisk('srv_a', request as HostBackupRequest), (error: unknown) => {
      rejectsWith('invalid')(error);
      assert.ok(
        (error as { fields: { field: string }[] }).fields.some((f) => f.field === field),
        `${field} named in ${JSON.stringify((error as { fields: unknown }).fields)}`,
      );
      return true;
    });
  await assert.rejects(
    client.restoreDisk('srv_a', { restoreId: 'rst_x', snapshot: '', repository: repo('fra1') }),
    rejectsWith('invalid'),
  );
  assert.equal(fake.calls.length, before, 'the driver was not called');
  assert.equal(await client.job('bkp_never'), null);
});

test('an agent restart loses its jobs: the client, polling through the restart, fails with host_job_lost', async () => {
  const hostTls = { caPem: tls.ca, certPem: tls.hostCert, keyPem: tls.hostKey };
  const first = createHostApi({ driver: fakeBackupDriver().driver, imageStore: null, tls: hostTls });
  const url = await first.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(url).port);
  const restarting = createHostClient({
    baseUrl: url,
    hostId,
    tls: { caPem: tls.ca, certPem: tls.cpCert, keyPem: tls.cpKey },
    jobPollMs: 10,
  });
  const waiting = restarting.backupDisk('srv_a', {
    backupId: 'bkp_lost',
    parentSnapshot: null,
    local: repo('fra1'),
    remote: null,
  });
  const outcome = assert.rejects(waiting, rejectsWith('unavailable', 'host_job_lost'));
  for (;;) if (await restarting.job('bkp_lost')) break;
  await first.close();
  const second = createHostApi({ driver: fakeBackupDriver().driver, imageStore: null, tls: hostTls });
  await second.listen({ host: '127.0.0.1', port });
  try {
    await outcome;
  } finally {
    await second.close();
  }
});

test('no log line of the host API holds a repository password', () => {
  assert.ok(logText.includes('backup job'), 'the jobs were logged');
  assert.ok(logText.includes('host job failed'), 'the failure was logged');
  assert.equal(logText.includes(password), false);
});
