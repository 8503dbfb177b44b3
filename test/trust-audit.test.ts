/**
 * Findings 8 and 10 of the trust-boundaries issue: the audit log and console tickets.
 * - A mutation refused inside its transaction (quota exceeded, a name taken) leaves no `success` entry; a
 *   success leaves exactly one entry, with the resource id.
 * - Failed authentications are audited (`auth.failed`), at most 10 a minute per address, the rest counted
 *   in one `auth.failed_suppressed` entry; operators' reads are audited (`token.operator_used`).
 * - Opening a console, reading boot logs and exporting a disk are audited.
 * - `GET /v1/audit-log/verify` holds, then names a row changed by SQL; `vmcloud audit-log verify` exits 1
 *   naming it; `audit-log export --since` prints JSON lines.
 * - A console ticket whose token was revoked since is refused (401); request log lines never carry tickets.
 *
 * Console, logs and export reach a host's API: as in test/host-features.routes.test.ts, those routes run
 * on an API of their own over the control plane's real services (database, tokens, servers, audit log),
 * with a fake host client in place of a host.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { createApi, type Api } from '../src/api/rest/server.ts';
import { registerServerHostRoutes } from '../src/api/rest/routes/server-host.ts';
import { createLogger, createManualClock, VmcError } from '../src/core/index.ts';
import { createClient, WebSocket, type WsSocket } from '../src/client/index.ts';
import type { ConsoleStream, HostClient } from '../src/agent/host-client/index.ts';
import {
  createProject,
  createToken,
  listHosts,
  revokeToken,
  verifyAuditLog,
  type AuditVerification,
} from '../src/contract/index.ts';
import { runCli, saveProfile, type CliIo } from '../src/cli/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

/** A host client whose console echoes nothing, whose logs and disk are fixed. */
function fakeHostClient(): HostClient {
  const unsupported = async () => {
    throw new VmcError('unavailable', 'not in this fake host');
  };
  return {
    baseUrl: 'https://fake-host.invalid',
    info: async () => ({ features: {} }),
    async openConsole(serverId) {
      const stream = new Duplex({
        read() {},
        write(_chunk, _encoding, callback) {
          callback();
        },
      }) as ConsoleStream;
      stream.closeCode = null;
      stream.closeReason = '';
      stream.push(`console of ${serverId}\r\n`);
      return stream;
    },
    logs: async (serverId) => `boot log of ${serverId}\n`,
    exportDisk: async () => ({
      stream: Readable.from([Buffer.alloc(4096, 1)]),
      sizeBytes: 4096,
      format: 'qcow2',
      virtualSizeBytes: null,
      fromRunningServer: false,
    }),
    listSnapshots: unsupported,
    createSnapshot: unsupported,
    restoreSnapshot: unsupported,
    deleteSnapshot: unsupported,
    backupDisk: unsupported,
    restoreDisk: unsupported,
    job: unsupported,
    listImages: unsupported,
    uploadImage: unsupported,
    downloadImage: unsupported,
    deleteImage: unsupported,
    pinning: async () => null,
  };
}

interface AuditRow {
  id: string;
  action: string;
  outcome: string;
  resource_id: string | null;
  status_code: number | null;
  actor_token_id: string | null;
  request_id: string | null;
  source_ip: string | null;
  details_json: string;
}

for (const dialect of testDialects()) {
  describe(`the audit log and console tickets (${dialect})`, () => {
    const clock = createManualClock(Date.now());
    let t: TestControlPlane;
    /** The server-host routes over the control plane's services, logging into `logLines`. */
    let hostRoutes: Api;
    let hostRoutesUrl: string;
    const logLines: string[] = [];
    let serverId: string;

    const rowsWhere = (column: 'request_id' | 'action', value: string): Promise<AuditRow[]> =>
      t.cp.db
        .selectFrom('audit_log')
        .select([
          'id',
          'action',
          'outcome',
          'resource_id',
          'status_code',
          'actor_token_id',
          'request_id',
          'source_ip',
          'details_json',
        ])
        .where(column, '=', value)
        .orderBy('seq')
        .execute() as Promise<AuditRow[]>;

    const tokenIdOf = async (secret: string) => (await t.cp.services.identity.authenticate(secret)).tokenId;

    before(async () => {
      t = await startTestControlPlane(dialect, { clock }, (cp) => {
        // A request marked so "crashes" the process after its mutation committed and before any answer:
        // the connection is cut and nothing after the handler runs for it.
        cp.api.addHook('preSerialization', async (request: FastifyRequest) => {
          if (request.headers['x-test-crash-after-commit'] !== 'yes') return;
          request.raw.socket.destroy();
          await new Promise(() => {});
        });
      });
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'audited', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      serverId = created.body.server.id;
      await until('the server to run', async () => {
        const shown = await t.call('GET', `/v1/servers/${serverId}`);
        return shown.body.server.status === 'running';
      });

      const services = t.cp.services;
      const built = await createApi({
        clock,
        log: createLogger({ level: 'info', destination: { write: (line: string) => logLines.push(line) } }),
        identity: services.identity,
        audit: services.audit,
        failedAuth: { record: async () => {}, flush: async () => {} },
        idempotency: services.idempotency,
        rateLimitPerMinute: 0,
        version: 'test',
        checkHealth: async () => {},
      });
      hostRoutes = built.app;
      const host = fakeHostClient();
      registerServerHostRoutes(hostRoutes, built.route, {
        clock,
        hostClientFor: async () => host,
        requireServer: services.compute.requireServer,
        recheckToken: services.identity.recheckToken,
      });
      await hostRoutes.listen({ host: '127.0.0.1', port: 0 });
      const address = hostRoutes.server.address();
      hostRoutesUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    });
    after(async () => {
      await hostRoutes?.close();
      await t?.dispose();
    });

    /** Opens the console WebSocket: the socket once open, or the status it was refused with. */
    function connectConsole(path: string): Promise<{ socket: WsSocket } | { status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const socket = new WebSocket(hostRoutesUrl.replace('http', 'ws') + path);
        socket.once('open', () => resolve({ socket }));
        socket.once('unexpected-response', (_request, response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        socket.once('error', reject);
      });
    }

    const callHostRoutes = async (method: string, path: string, token: string) => {
      const response = await fetch(hostRoutesUrl + path, { method, headers: { authorization: `Bearer ${token}` } });
      const text = await response.text();
      return { status: response.status, text };
    };

    test('a success leaves exactly one entry with the resource id; a mutation refused in its transaction leaves no success', async () => {
      const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
      const project = await operator.call(createProject, {
        body: { name: 'small', owner_email: 'small@example.eu', quotas: { servers: 1 } },
      });
      const post = (name: string) =>
        t.call('POST', '/v1/servers', {
          token: project.secret,
          body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12' },
        });

      const created = await post('only-one');
      assert.equal(created.status, 202);
      const success = await rowsWhere('request_id', created.headers.get('x-request-id')!);
      assert.equal(success.length, 1, JSON.stringify(success));
      assert.deepEqual(
        [success[0].action, success[0].outcome, success[0].resource_id, success[0].status_code],
        ['POST /v1/servers', 'success', created.body.server.id, 202],
      );
      assert.equal(success[0].actor_token_id, project.token.id);

      const overQuota = await post('one-too-many');
      assert.equal(overQuota.status, 403);
      assert.equal(overQuota.body.reason, 'quota_exceeded');
      const quotaRows = await rowsWhere('request_id', overQuota.headers.get('x-request-id')!);
      assert.deepEqual(
        quotaRows.map((r) => [r.outcome, r.status_code]),
        [['failure', 403]],
      );

      const taken = await t.call('POST', '/v1/servers', {
        body: { name: 'audited', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.reason, 'name_taken');
      const takenRows = await rowsWhere('request_id', taken.headers.get('x-request-id')!);
      assert.deepEqual(
        takenRows.map((r) => [r.outcome, r.status_code]),
        [['failure', 409]],
      );
    });

    test('a mutation whose answer was lost after the commit (the process died) has its entry all the same', async () => {
      const cut = await fetch(`${t.url}/v1/servers`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.secrets.projectToken}`,
          'content-type': 'application/json',
          'x-test-crash-after-commit': 'yes',
        },
        body: JSON.stringify({ name: 'answer-lost', product: 'vps-nano', region: 'fra1', image: 'debian-12' }),
      }).then(
        () => 'answered',
        () => 'cut',
      );
      assert.equal(cut, 'cut');
      const server = await t.cp.db
        .selectFrom('servers')
        .select('id')
        .where('name', '=', 'answer-lost')
        .executeTakeFirstOrThrow();
      const rows = (await rowsWhere('action', 'POST /v1/servers')).filter((r) => r.resource_id === server.id);
      assert.deepEqual(
        rows.map((r) => [r.outcome, r.status_code]),
        [['success', 202]],
      );
    });

    test('failed authentications: auth.failed entries, at most 10 a minute per address, the rest summed up', async () => {
      const before = (await rowsWhere('action', 'auth.failed')).length;
      const bad = [`vmc_${'B'.repeat(36)}`, 'not-a-token', `vmc_${'C'.repeat(36)}`];
      for (let i = 0; i < 15; i++) {
        const refused = await t.call('GET', '/v1/servers', { token: bad[i % bad.length] });
        assert.equal(refused.status, 401);
      }
      const failed = await until('10 auth.failed entries', async () => {
        const rows = await rowsWhere('action', 'auth.failed');
        return rows.length - before >= 10 && rows;
      });
      assert.equal(failed.length - before, 10, 'bounded per address and minute');
      const last = failed[failed.length - 1];
      assert.equal(last.outcome, 'failure');
      assert.equal(last.status_code, 401);
      assert.ok(last.source_ip, 'the address is recorded');
      assert.ok(!last.details_json.includes('B'.repeat(36)), 'never the token itself');

      clock.advanceMs(61_000);
      await t.cp.housekeeping();
      // The background housekeeping pass may be the one that writes it: wait for it.
      const summaries = await until('the summary entry', async () => {
        const rows = await rowsWhere('action', 'auth.failed_suppressed');
        return rows.length > 0 && rows;
      });
      assert.equal(summaries.length, 1);
      assert.equal(JSON.parse(summaries[0].details_json).suppressed, 5);
    });

    test("operators' reads are audited (token.operator_used)", async () => {
      const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
      await operator.call(listHosts);
      const operatorTokenId = await tokenIdOf(t.secrets.operatorToken);
      const used = await until('a token.operator_used entry', async () =>
        (await rowsWhere('action', 'token.operator_used')).find(
          (r) => r.actor_token_id === operatorTokenId && JSON.parse(r.details_json).route === 'GET /v1/hosts',
        ),
      );
      assert.equal(used.outcome, 'success');
    });

    test('opening a console, reading logs and exporting a disk are audited', async () => {
      const ownerTokenId = await tokenIdOf(t.secrets.projectToken);
      const issued = await callHostRoutes('POST', `/v1/servers/${serverId}/console`, t.secrets.projectToken);
      assert.equal(issued.status, 201, issued.text);
      const session = await connectConsole(JSON.parse(issued.text).url);
      assert.ok('socket' in session, JSON.stringify(session));
      session.socket.close();

      const logs = await callHostRoutes('GET', `/v1/servers/${serverId}/logs`, t.secrets.projectToken);
      assert.deepEqual([logs.status, logs.text], [200, `boot log of ${serverId}\n`]);
      const exported = await callHostRoutes('GET', `/v1/servers/${serverId}/export`, t.secrets.projectToken);
      assert.equal(exported.status, 200);

      for (const action of ['server.console_opened', 'server.log_read', 'server.disk_exported']) {
        const rows = await rowsWhere('action', action);
        assert.equal(rows.length, 1, action);
        assert.equal(rows[0].resource_id, serverId, action);
        assert.equal(rows[0].actor_token_id, ownerTokenId, action);
      }
    });

    test('a console ticket whose token was revoked since is refused (401); tickets never reach a log line', async () => {
      const owner = createClient({ baseUrl: t.url, token: t.secrets.projectToken });
      const member = await owner.call(createToken, { body: { name: 'console-user', role: 'member' } });
      const issued = await callHostRoutes('POST', `/v1/servers/${serverId}/console`, member.secret);
      assert.equal(issued.status, 201, issued.text);
      const { url, ticket } = JSON.parse(issued.text) as { url: string; ticket: string };
      await owner.call(revokeToken, { params: { id: member.token.id } });
      const refused = await connectConsole(url);
      assert.ok('status' in refused, 'the console opened for a revoked token');
      assert.equal(refused.status, 401);

      // The working ticket of the previous test and this refused one were both in request URLs.
      await until('the request lines of the console', () => logLines.some((line) => line.includes('/console')));
      assert.ok(logLines.length > 0);
      for (const line of logLines) {
        assert.ok(!line.includes(ticket), `a log line carries the ticket: ${line}`);
        assert.ok(!/ct_[A-Za-z0-9_-]{20,}/.test(line), `a log line carries a ticket: ${line}`);
      }
    });

    test('CLI audit-log export --since prints JSON lines', async () => {
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
      const since = new Date(clock.nowMs() - 3_600_000).toISOString();
      // The export reads in commit order (PostgreSQL: once every older transaction has ended): poll.
      const entries = await until('the console entry in the export', async () => {
        stdout = '';
        const code = await runCli(['--profile', 'operator', 'audit-log', 'export', '--since', since], io);
        assert.equal(code, 0, stderr);
        const parsed = stdout
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        return parsed.some((entry) => JSON.stringify(entry).includes('server.console_opened')) ? parsed : null;
      });
      assert.ok(entries.length > 5, stdout);
    });

    // Last: it breaks the chain (and mends it).
    test('verify holds, then names a row changed by SQL; the CLI exits 1 naming it', async () => {
      const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
      // Rows are sealed once settled (PostgreSQL: once every older transaction has ended).
      const verified: AuditVerification = await until('sealed audit rows', async () => {
        const result = await operator.call(verifyAuditLog);
        return result.checked >= 5 && result;
      });
      assert.equal(verified.ok, true, JSON.stringify(verified));
      assert.equal(verified.first_bad, null);

      const target = await t.cp.db
        .selectFrom('audit_log')
        .select(['id', 'action'])
        .where('sealed', '=', 1)
        .orderBy('seq')
        .offset(2)
        .limit(1)
        .executeTakeFirstOrThrow();
      await t.cp.db.updateTable('audit_log').set({ action: 'nothing to see' }).where('id', '=', target.id).execute();

      const broken = await operator.call(verifyAuditLog);
      assert.equal(broken.ok, false);
      assert.equal(broken.first_bad?.id, target.id, JSON.stringify(broken));

      const env = { VMCLOUD_CONFIG: join(t.dataDir, 'cli-config.json') };
      await saveProfile({ name: 'operator', url: t.url, token: t.secrets.operatorToken }, env);
      let stdout = '';
      const io: CliIo = {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: () => true },
        env,
        isTTY: false,
      };
      const code = await runCli(['--profile', 'operator', 'audit-log', 'verify'], io);
      assert.equal(code, 1);
      assert.match(stdout, new RegExp(`BROKEN at entry ${target.id}`));

      await t.cp.db.updateTable('audit_log').set({ action: target.action }).where('id', '=', target.id).execute();
      assert.equal((await operator.call(verifyAuditLog)).ok, true, 'mended');
    });
  });
}
