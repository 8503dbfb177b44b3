/**
 * SSH keys through the REST API, on SQLite and PostgreSQL: save (type, bits, fingerprint as ssh-keygen
 * prints it), list with filters and keyset pages, show by id or name, rename and relabel, delete; the
 * refusals with their codes changing nothing (private key, garbage, DSA, weak RSA, name taken, same key
 * twice, a viewer); tenancy (another project sees 404); events and audit entries; and a server created
 * with a saved key's name and id beside an inline key, whose host's desired state carries all of them.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';
import { ed25519Key, wire } from './ssh-key-lines.ts';

function rsaKey(bits: number): string {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  const mpint = (b: Buffer) => wire(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  const blob = Buffer.concat([
    wire('ssh-rsa'),
    mpint(Buffer.from(jwk.e!, 'base64url')),
    mpint(Buffer.from(jwk.n!, 'base64url')),
  ]);
  return `ssh-rsa ${blob.toString('base64')}`;
}

for (const dialect of testDialects()) {
  describe(`SSH keys through the REST API (${dialect})`, () => {
    let t: TestControlPlane;
    const laptop = ed25519Key('me@laptop');

    const refused = async (
      what: string,
      response: Promise<{ status: number; headers: Headers; body: any }>, // eslint-disable-line @typescript-eslint/no-explicit-any
      status: number,
      code: string,
    ) => {
      const r = await response;
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.reason, code, `${what}: ${JSON.stringify(r.body)}`);
      assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
      return r.body;
    };
    const names = async () =>
      ((await t.call('GET', '/v1/ssh-keys')).body.ssh_keys as Array<{ name: string }>).map((k) => k.name).sort();

    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('save a key: type, bits, fingerprint; show by id and by name; an event and an audit entry', async () => {
      const created = await t.call('POST', '/v1/ssh-keys', {
        body: { name: 'laptop', public_key: `  ${laptop}\n`, labels: { owner: 'me' } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const key = created.body.ssh_key;
      assert.match(key.id, /^key_[0-9a-z]{26}$/);
      assert.deepEqual([key.name, key.type, key.bits, key.public_key], ['laptop', 'ssh-ed25519', 256, laptop]);
      assert.match(key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.deepEqual(key.labels, { owner: 'me' });
      assert.deepEqual((await t.call('GET', `/v1/ssh-keys/${key.id}`)).body.ssh_key, key);
      assert.deepEqual((await t.call('GET', '/v1/ssh-keys/laptop')).body.ssh_key, key);
      const events = await until('the ssh_key.created event', async () => {
        const found = (await t.call('GET', '/v1/events?type=ssh_key.created&limit=10')).body.events;
        return found.length > 0 ? found : null;
      });
      assert.equal(events[0].resource.id, key.id);
      assert.deepEqual(events[0].data, { name: 'laptop', fingerprint: key.fingerprint, type: 'ssh-ed25519' });
      const audit = await t.call('GET', '/v1/audit-log?limit=200', { token: t.secrets.operatorToken });
      const entry = audit.body.entries.find(
        (e: { resource: { type: string; id: string } | null }) => e.resource?.id === key.id,
      );
      assert.ok(entry, 'the create is audited');
      assert.equal(entry.resource.type, 'ssh_key');
    });

    test('refusals with their codes, and nothing changes', async () => {
      const before = await t.call('GET', '/v1/ssh-keys');
      const body = (public_key: string, name = 'other') => ({ body: { name, public_key } });
      const privateKey = `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----`;
      const privateRefusal = await refused(
        'a private key',
        t.call('POST', '/v1/ssh-keys', body(privateKey)),
        400,
        'invalid_public_key',
      );
      assert.match(privateRefusal.detail, /private key/);
      assert.deepEqual(
        privateRefusal.errors.map((e: { field: string }) => e.field),
        ['public_key'],
      );
      await refused('garbage', t.call('POST', '/v1/ssh-keys', body('hello world')), 400, 'invalid_public_key');
      await refused(
        'DSA',
        t.call('POST', '/v1/ssh-keys', body(`ssh-dss ${Buffer.from('\0\0\0\x07ssh-dss').toString('base64')}`)),
        400,
        'invalid_public_key',
      );
      await refused('RSA 1024', t.call('POST', '/v1/ssh-keys', body(rsaKey(1024))), 400, 'weak_key');
      await refused('a name taken', t.call('POST', '/v1/ssh-keys', body(ed25519Key(), 'laptop')), 409, 'name_taken');
      const exists = await refused(
        'the same key under another name (another comment too)',
        t.call('POST', '/v1/ssh-keys', body(laptop.replace('me@laptop', 'copy'), 'laptop-copy')),
        409,
        'key_exists',
      );
      assert.match(exists.detail, /laptop/);
      const spaced = await t.call('POST', '/v1/ssh-keys', body(ed25519Key(), 'my key'));
      assert.deepEqual([spaced.status, spaced.body.errors[0].field], [400, 'name']);
      const viewer = (await t.call('POST', '/v1/tokens', { body: { name: 'keys-viewer', role: 'viewer' } })).body
        .secret;
      assert.equal(
        (await t.call('POST', '/v1/ssh-keys', { token: viewer, body: { name: 'v', public_key: ed25519Key() } })).status,
        403,
      );
      assert.equal((await t.call('DELETE', '/v1/ssh-keys/laptop', { token: viewer })).status, 403);
      assert.equal((await t.call('PATCH', '/v1/ssh-keys/laptop', { token: viewer, body: { name: 'x' } })).status, 403);
      assert.equal((await t.call('GET', '/v1/ssh-keys/laptop', { token: viewer })).status, 200);
      assert.deepEqual((await t.call('GET', '/v1/ssh-keys')).body, before.body);
    });

    test('list: filters by name, fingerprint and labels, keyset pages; rename, relabel; tenancy 404', async () => {
      const rsa = await t.call('POST', '/v1/ssh-keys', { body: { name: 'ci', public_key: rsaKey(2048) } });
      assert.equal(rsa.status, 201, JSON.stringify(rsa.body));
      assert.deepEqual([rsa.body.ssh_key.type, rsa.body.ssh_key.bits], ['ssh-rsa', 2048]);
      assert.deepEqual(await names(), ['ci', 'laptop']);
      const page1 = await t.call('GET', '/v1/ssh-keys?limit=1');
      assert.equal(page1.body.ssh_keys.length, 1);
      const page2 = await t.call('GET', `/v1/ssh-keys?limit=1&cursor=${page1.body.next_cursor}`);
      assert.notEqual(page2.body.ssh_keys[0].id, page1.body.ssh_keys[0].id);
      assert.equal(page2.body.next_cursor, null);
      assert.deepEqual(
        (await t.call('GET', '/v1/ssh-keys?label_selector=owner%3Dme')).body.ssh_keys.map(
          (k: { name: string }) => k.name,
        ),
        ['laptop'],
      );
      assert.deepEqual(
        (await t.call('GET', '/v1/ssh-keys?name=ci')).body.ssh_keys.map((k: { name: string }) => k.name),
        ['ci'],
      );
      const fp = encodeURIComponent(rsa.body.ssh_key.fingerprint);
      assert.deepEqual(
        (await t.call('GET', `/v1/ssh-keys?fingerprint=${fp}`)).body.ssh_keys.map((k: { name: string }) => k.name),
        ['ci'],
      );
      await refused(
        'rename onto a taken name',
        t.call('PATCH', '/v1/ssh-keys/ci', { body: { name: 'laptop' } }),
        409,
        'name_taken',
      );
      const renamed = await t.call('PATCH', '/v1/ssh-keys/ci', { body: { name: 'ci-2026', labels: { env: 'ci' } } });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.deepEqual([renamed.body.ssh_key.name, renamed.body.ssh_key.labels], ['ci-2026', { env: 'ci' }]);
      assert.equal(renamed.body.ssh_key.fingerprint, rsa.body.ssh_key.fingerprint);

      const other = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'keys-tenant-b', owner_email: 'keys-b@example.com' },
      });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const asB = { token: other.body.secret as string };
      const id = rsa.body.ssh_key.id;
      assert.equal((await t.call('GET', `/v1/ssh-keys/${id}`, asB)).status, 404);
      assert.equal((await t.call('GET', '/v1/ssh-keys/laptop', asB)).status, 404);
      assert.equal((await t.call('PATCH', `/v1/ssh-keys/${id}`, { ...asB, body: { name: 'x' } })).status, 404);
      assert.equal((await t.call('DELETE', `/v1/ssh-keys/${id}`, asB)).status, 404);
      assert.deepEqual((await t.call('GET', '/v1/ssh-keys', asB)).body.ssh_keys, []);
      // the same key may be saved by another project
      const theirs = await t.call('POST', '/v1/ssh-keys', { ...asB, body: { name: 'laptop', public_key: laptop } });
      assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
      // B cannot create a server with A's key by name or id
      const serverOfB = await t.call('POST', '/v1/servers', {
        ...asB,
        body: { name: 'b-1', product: 'vps-nano', region: 'fra1', image: 'debian-12', ssh_keys: [id] },
      });
      assert.equal(serverOfB.status, 400);
      assert.deepEqual(
        serverOfB.body.errors.map((e: { field: string }) => e.field),
        ['ssh_keys[0]'],
      );
      assert.deepEqual(await names(), ['ci-2026', 'laptop']);
    });

    test('quota: 100 keys per project, the 101st refused with 403 quota_exceeded, nothing written', async () => {
      const project = await t.call('POST', '/v1/projects', {
        token: t.secrets.operatorToken,
        body: { name: 'keys-quota', owner_email: 'keys-quota@example.com' },
      });
      assert.equal(project.status, 201, JSON.stringify(project.body));
      const token = project.body.secret as string;
      for (let i = 0; i < 100; i++) {
        const r = await t.call('POST', '/v1/ssh-keys', { token, body: { name: `k${i}`, public_key: ed25519Key() } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      await refused(
        'the 101st key',
        t.call('POST', '/v1/ssh-keys', { token, body: { name: 'k100', public_key: ed25519Key() } }),
        403,
        'quota_exceeded',
      );
      const all = await t.call('GET', '/v1/ssh-keys?limit=500', { token });
      assert.equal(all.body.ssh_keys.length, 100);
      assert.equal((await t.call('GET', '/v1/ssh-keys/k100', { token })).status, 404);
    });

    test('a server created with saved keys by name and id beside an inline key has all of them', async () => {
      const inline = ed25519Key('inline@host');
      const ci = (await t.call('GET', '/v1/ssh-keys/ci-2026')).body.ssh_key;
      const unknown = await t.call('POST', '/v1/servers', {
        body: { name: 'k-0', product: 'vps-nano', region: 'fra1', image: 'debian-12', ssh_keys: [inline, 'nope'] },
      });
      assert.equal(unknown.status, 400, JSON.stringify(unknown.body));
      assert.deepEqual(
        unknown.body.errors.map((e: { field: string }) => e.field),
        ['ssh_keys[1]'],
      );
      assert.match(unknown.body.detail, /nope/);
      assert.equal(
        (await t.call('GET', '/v1/servers?name=k-0')).body.servers.length,
        0,
        'no server made by the refusal',
      );

      const created = await t.call('POST', '/v1/servers', {
        body: {
          name: 'k-1',
          product: 'vps-nano',
          region: 'fra1',
          image: 'debian-12',
          ssh_keys: [inline, 'laptop', ci.id],
        },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      const server = created.body.server;
      assert.equal((await t.waitForAction(created.body.action.id)).status, 'success');
      const hostId = (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.id])).get(server.id)!.hostId;
      const desired = (await t.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === server.id)!;
      assert.deepEqual(desired.spec.sshKeys, [inline, laptop, ci.public_key]);

      // deleting a key changes no server: the key was copied in at create
      assert.equal((await t.call('DELETE', '/v1/ssh-keys/laptop')).status, 204);
      assert.equal((await t.call('GET', '/v1/ssh-keys/laptop')).status, 404);
      const after = (await t.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === server.id)!;
      assert.deepEqual(after.spec.sshKeys, [inline, laptop, ci.public_key]);
      const deleted = await until('the ssh_key.deleted event', async () => {
        const found = (await t.call('GET', '/v1/events?type=ssh_key.deleted&limit=10')).body.events;
        return found.length > 0 ? found : null;
      });
      assert.equal(deleted[0].data.name, 'laptop');
      assert.deepEqual(await names(), ['ci-2026']);
    });
  });
}
