/**
 * GraphQL says and refuses what REST says and refuses. Its mutations take REST's bodies through the same
 * contract schemas and validator options (`src/api/input-check.ts`): a name, a CIDR, a firewall port or a
 * volume size that REST refuses is refused with the same code and fields, and nothing is written. And the
 * resources REST gained for the console are there too: saved SSH keys, a server's networks (batched), its
 * resize options, the events of one resource, and `networks`/`firewalls`/saved keys in `createServer`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until } from './helpers.ts';
import { ed25519Key } from './ssh-key-lines.ts';

interface GqlError {
  message: string;
  extensions?: { code?: string; fields?: Array<{ field: string; message: string }> };
}

for (const dialect of testDialects())
  test(`GraphQL and REST agree: refusals, SSH keys, networks, resize options, events (${dialect})`, async (t) => {
    const cp = await startTestControlPlane(dialect);
    t.after(() => cp.dispose());
    const gql = async (query: string, variables: Record<string, unknown> = {}, token = cp.secrets.projectToken) => {
      const response = await fetch(`${cp.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: Record<string, unknown> | null; errors?: GqlError[] };
    };
    /** The first error's code and fields, sorted by field (GraphQL and REST list them in the same words). */
    const refusalOf = (errors: GqlError[] | undefined) => ({
      code: errors?.[0]?.extensions?.code,
      fields: [...(errors?.[0]?.extensions?.fields ?? [])].sort((a, b) => a.field.localeCompare(b.field)),
    });
    /** REST's problem+json lists the same field problems under `errors`. */
    const restRefusal = (body: { code: string; errors?: Array<{ field: string; message: string }> }) => ({
      code: body.code,
      fields: [...(body.errors ?? [])].sort((a, b) => a.field.localeCompare(b.field)),
    });
    const counts = async () => ({
      servers: (await cp.call('GET', '/v1/servers?limit=500')).body.servers.length as number,
      networks: (await cp.call('GET', '/v1/networks?limit=500')).body.networks.length as number,
      firewalls: (await cp.call('GET', '/v1/firewalls?limit=500')).body.firewalls.length as number,
      volumes: (await cp.call('GET', '/v1/volumes?limit=500')).body.volumes.length as number,
      ssh_keys: (await cp.call('GET', '/v1/ssh-keys?limit=500')).body.ssh_keys.length as number,
    });

    await t.test('bad inputs: the same code and fields as REST, nothing written', async () => {
      const before = await counts();
      const cases: Array<{
        what: string;
        mutation: string;
        variables: Record<string, unknown>;
        rest: [string, unknown];
      }> = [
        {
          what: 'a server name with spaces',
          mutation: `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } } }`,
          variables: { input: { name: 'Bad Name!', product: 'vps-nano', region: 'fra1', image: 'debian-12' } },
          rest: ['/v1/servers', { name: 'Bad Name!', product: 'vps-nano', region: 'fra1', image: 'debian-12' }],
        },
        {
          what: 'a network range that is not a CIDR and an over-long name',
          mutation: `mutation ($input: CreateNetworkInput!) { createNetwork(input: $input) { id } }`,
          variables: { input: { name: 'n'.repeat(80), region: 'fra1', ip_range: 'ten dot zero' } },
          rest: ['/v1/networks', { name: 'n'.repeat(80), region: 'fra1', ip_range: 'ten dot zero' }],
        },
        {
          what: 'a firewall rule with an unknown direction',
          mutation: `mutation ($input: CreateFirewallInput!) { createFirewall(input: $input) { id } }`,
          variables: {
            input: { name: 'fw-bad', rules: [{ direction: 'sideways', protocol: 'tcp', port: '22' }] },
          },
          rest: ['/v1/firewalls', { name: 'fw-bad', rules: [{ direction: 'sideways', protocol: 'tcp', port: '22' }] }],
        },
        {
          what: 'a volume of 0 GiB',
          mutation: `mutation ($input: CreateVolumeInput!) { createVolume(input: $input) { volume { id } } }`,
          variables: { input: { name: 'vol-bad', size_gib: 0, region: 'fra1' } },
          rest: ['/v1/volumes', { name: 'vol-bad', size_gib: 0, region: 'fra1' }],
        },
        {
          what: 'an SSH key name with a slash',
          mutation: `mutation ($input: CreateSshKeyInput!) { createSshKey(input: $input) { id } }`,
          variables: { input: { name: 'a/b', public_key: ed25519Key() } },
          rest: ['/v1/ssh-keys', { name: 'a/b', public_key: ed25519Key() }],
        },
      ];
      for (const c of cases) {
        const answer = await gql(c.mutation, c.variables);
        const rest = await cp.call('POST', c.rest[0], { body: c.rest[1] });
        assert.equal(rest.status, 400, `${c.what}: REST ${JSON.stringify(rest.body)}`);
        const got = refusalOf(answer.errors);
        assert.equal(got.code, 'invalid', `${c.what}: ${JSON.stringify(answer)}`);
        assert.ok(got.fields.length > 0, `${c.what}: the fields are named`);
        assert.deepEqual(got, restRefusal(rest.body), c.what);
      }
      const events = await gql(`{ events(limit: -1) { last } }`);
      assert.equal(refusalOf(events.errors).code, 'invalid', 'a negative limit, as GET /v1/events?limit=-1');
      const keys = await gql(`{ ssh_keys(limit: 100000) { ssh_keys { id } } }`);
      assert.equal(refusalOf(keys.errors).code, 'invalid', 'a limit over four digits, as REST');
      assert.deepEqual(await counts(), before, 'nothing was written');
    });

    let keyId = '';
    const keyLine = ed25519Key('laptop');
    await t.test(
      'SSH keys: create, list, show by name, update, refuse a viewer; the fingerprint REST shows',
      async () => {
        const created = await gql(
          `mutation ($input: CreateSshKeyInput!) { createSshKey(input: $input) { id name fingerprint type bits labels } }`,
          { input: { name: 'laptop', public_key: keyLine, labels: { team: 'web' } } },
        );
        assert.equal(created.errors, undefined, JSON.stringify(created.errors));
        const key = created.data!.createSshKey as { id: string; fingerprint: string; type: string; bits: number };
        keyId = key.id;
        const rest = (await cp.call('GET', `/v1/ssh-keys/${key.id}`)).body.ssh_key;
        assert.deepEqual(
          [key.fingerprint, key.type, key.bits],
          [rest.fingerprint, 'ssh-ed25519', 256],
          'the same key, as REST shows it',
        );
        const listed = await gql(`{ ssh_keys(label_selector: "team=web") { ssh_keys { id } next_cursor } }`);
        assert.deepEqual(listed.data!.ssh_keys, { ssh_keys: [{ id: key.id }], next_cursor: null });
        const byName = await gql(`{ ssh_key(id: "laptop") { id public_key } }`);
        assert.deepEqual(byName.data!.ssh_key, { id: key.id, public_key: keyLine });
        const renamed = await gql(`mutation { updateSshKey(id: "${key.id}", input: { name: "laptop-2" }) { name } }`);
        assert.deepEqual(renamed.data!.updateSshKey, { name: 'laptop-2' });
        const twice = await gql(`mutation ($input: CreateSshKeyInput!) { createSshKey(input: $input) { id } }`, {
          input: { name: 'again', public_key: keyLine },
        });
        assert.equal(refusalOf(twice.errors).code, 'conflict', 'the same key twice, as REST');
        const viewer = (await cp.call('POST', '/v1/tokens', { body: { name: 'gql-viewer', role: 'viewer' } })).body
          .secret as string;
        const refused = await gql(
          `mutation ($input: CreateSshKeyInput!) { createSshKey(input: $input) { id } }`,
          { input: { name: 'viewer-key', public_key: ed25519Key() } },
          viewer,
        );
        assert.equal(refusalOf(refused.errors).code, 'forbidden');
        assert.equal((await cp.call('GET', '/v1/ssh-keys')).body.ssh_keys.length, 1);
      },
    );

    await t.test(
      'createServer with a saved key, a network and a firewall; its networks and resize options',
      async () => {
        const network = await cp.call('POST', '/v1/networks', {
          body: { name: 'backend', region: 'fra1', ip_range: '10.20.0.0/16' },
        });
        assert.equal(network.status, 201, JSON.stringify(network.body));
        assert.equal((await cp.call('POST', '/v1/firewalls', { body: { name: 'web' } })).status, 201);
        const created = await gql(
          `mutation ($input: CreateServerInput!) { createServer(input: $input) { server { id } action { id } } }`,
          {
            input: {
              name: 'gql-net',
              product: 'vps-starter',
              region: 'fra1',
              image: 'debian-12',
              ssh_keys: ['laptop-2'],
              networks: ['backend'],
              firewalls: ['web'],
            },
          },
        );
        assert.equal(created.errors, undefined, JSON.stringify(created.errors));
        const { server, action } = created.data!.createServer as { server: { id: string }; action: { id: string } };
        assert.equal((await cp.waitForAction(action.id)).status, 'success');
        const other = await gql(
          `mutation { createServer(input: { name: "gql-plain", product: "vps-nano", region: "fra1", image: "debian-12" }) { server { id } action { id } } }`,
        );
        const plain = other.data!.createServer as { server: { id: string }; action: { id: string } };
        assert.equal((await cp.waitForAction(plain.action.id)).status, 'success');

        const restNetworks = (await cp.call('GET', `/v1/servers/${server.id}/networks`)).body.networks;
        assert.equal(restNetworks.length, 1);
        const listed = await gql(
          `{ servers { servers { id networks { network_id network_name ip mac_address mtu status subnet { ip_range gateway } } } } }`,
        );
        assert.equal(listed.errors, undefined, JSON.stringify(listed.errors));
        const byId = new Map(
          (listed.data!.servers as { servers: Array<{ id: string; networks: unknown[] }> }).servers.map((s) => [
            s.id,
            s.networks,
          ]),
        );
        assert.deepEqual(
          byId.get(server.id),
          restNetworks.map((n: Record<string, unknown>) => ({
            network_id: n.network_id,
            network_name: n.network_name,
            ip: n.ip,
            mac_address: n.mac_address,
            mtu: n.mtu,
            status: n.status,
            subnet: n.subnet,
          })),
          'the networks REST lists for it',
        );
        assert.deepEqual(byId.get(plain.server.id), [], 'the other server: none');
        const applied = (await cp.call('GET', '/v1/firewalls/web')).body.firewall.applied_to;
        assert.ok(JSON.stringify(applied).includes(server.id), 'behind its firewall');

        const options = await gql(
          `query ($id: ID!) { resizeOptions(server: $id) { server_id product disk_gib must_stop_first options { product price { hourly_cents monthly_cents currency } monthly_difference_cents direction disk_gib_after fits_current_host region_availability possible reason message } } }`,
          { id: server.id },
        );
        assert.equal(options.errors, undefined, JSON.stringify(options.errors));
        const rest = (await cp.call('GET', `/v1/servers/${server.id}/resize-options`)).body;
        const fields = (o: Record<string, unknown>) => ({
          product: o.product,
          price: o.price,
          monthly_difference_cents: o.monthly_difference_cents,
          direction: o.direction,
          disk_gib_after: o.disk_gib_after,
          fits_current_host: o.fits_current_host,
          region_availability: o.region_availability,
          possible: o.possible,
          reason: o.reason,
          message: o.message,
        });
        assert.deepEqual(options.data!.resizeOptions, {
          server_id: rest.server_id,
          product: rest.product,
          disk_gib: rest.disk_gib,
          must_stop_first: rest.must_stop_first,
          options: rest.options.map(fields),
        });
        assert.ok(rest.options.length > 0);
        const stranger = (
          await cp.call('POST', '/v1/projects', {
            token: cp.secrets.operatorToken,
            body: { name: 'gql-elsewhere', owner_email: 'elsewhere@example.com' },
          })
        ).body.secret as string;
        const hidden = await gql(`{ resizeOptions(server: "${server.id}") { server_id } }`, {}, stranger);
        assert.equal(refusalOf(hidden.errors).code, 'not_found', 'another project’s server is not found');
      },
    );

    await t.test('the events of one resource, as GET /v1/events?resource_id= lists them', async () => {
      const rest = await until('the SSH key’s events readable', async () => {
        const body = (await cp.call('GET', `/v1/events?resource_type=ssh_key&resource_id=${keyId}`)).body;
        return body.events.length >= 2 && body;
      });
      const answer = await gql(
        `query ($id: String!) { events(resource_type: "ssh_key", resource_id: $id) { events { seq type resource { type id } } last } }`,
        { id: keyId },
      );
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
      assert.deepEqual(answer.data!.events, {
        events: rest.events.map((e: { seq: number; type: string; resource: unknown }) => ({
          seq: e.seq,
          type: e.type,
          resource: e.resource,
        })),
        last: rest.last,
      });
      assert.deepEqual(
        rest.events.map((e: { type: string }) => e.type),
        ['ssh_key.created', 'ssh_key.updated'],
      );
      const bad = await gql(`{ events(resource_type: "Not A Type") { last } }`);
      assert.equal(refusalOf(bad.errors).code, 'invalid');
    });
  });
