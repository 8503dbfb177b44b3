/**
 * The authorization matrix of the REST API, run against GraphQL: every operation below, as each kind of
 * caller — the owner, a member and a viewer of the project, the owner of another project, an operator, no
 * token — gets the outcome REST gives it: reads for every role of the project, mutations for members and
 * owners, `not_found` for another project's resources (never a hint that they exist), `forbidden` for a
 * viewer's mutations and for operators on tenants' resources, 401 without a token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects } from './helpers.ts';
import { ed25519Key } from './ssh-key-lines.ts';

type Outcome = 'ok' | 'forbidden' | 'not_found' | 'unauthenticated';
type Caller = 'owner' | 'member' | 'viewer' | 'stranger' | 'operator' | 'none';
const callers: Caller[] = ['owner', 'member', 'viewer', 'stranger', 'operator', 'none'];

for (const dialect of testDialects()) {
  test(`GraphQL authorization matrix (${dialect})`, { timeout: 120_000 }, async (t) => {
    const cp = await startTestControlPlane(dialect);
    t.after(() => cp.dispose());
    const token = async (role: string) =>
      (await cp.call('POST', '/v1/tokens', { body: { name: `gql-${role}`, role } })).body.secret as string;
    const other = await cp.call('POST', '/v1/projects', {
      token: cp.secrets.operatorToken,
      body: { name: 'gql-stranger', owner_email: 'stranger@example.com' },
    });
    const tokens: Record<Caller, string | null> = {
      owner: cp.secrets.projectToken,
      member: await token('member'),
      viewer: await token('viewer'),
      stranger: other.body.secret,
      operator: cp.secrets.operatorToken,
      none: null,
    };

    // The project's resources.
    const server = await cp.call('POST', '/v1/servers', {
      body: { name: 'm-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    assert.equal((await cp.waitForAction(server.body.action.id)).status, 'success');
    const serverId = server.body.server.id as string;
    const volume = (await cp.call('POST', '/v1/volumes', { body: { name: 'm-vol', size_gib: 1, region: 'fra1' } })).body
      .volume.id as string;
    const network = (
      await cp.call('POST', '/v1/networks', { body: { name: 'm-net', region: 'fra1', ip_range: '10.7.0.0/16' } })
    ).body.network.id as string;
    const firewall = (await cp.call('POST', '/v1/firewalls', { body: { name: 'm-fw' } })).body.firewall.id as string;
    const fip = (await cp.call('POST', '/v1/floating-ips', { body: { region: 'fra1', name: 'm-vip' } })).body
      .floating_ip.id as string;
    const sshKey = (await cp.call('POST', '/v1/ssh-keys', { body: { name: 'm-key', public_key: ed25519Key() } })).body
      .ssh_key.id as string;

    let serial = 0;
    const operations: { name: string; query: () => string; reads: boolean }[] = [
      { name: 'servers', reads: true, query: () => `{ servers { servers { id } } }` },
      { name: 'server', reads: true, query: () => `{ server(id: "${serverId}") { id actions { id } } }` },
      { name: 'volume', reads: true, query: () => `{ volume(id: "${volume}") { id } }` },
      { name: 'network', reads: true, query: () => `{ network(id: "${network}") { id } }` },
      { name: 'firewall', reads: true, query: () => `{ firewall(id: "${firewall}") { id } }` },
      { name: 'floating_ip', reads: true, query: () => `{ floating_ip(id: "${fip}") { id } }` },
      { name: 'ssh_key', reads: true, query: () => `{ ssh_key(id: "${sshKey}") { id } }` },
      {
        name: 'resizeOptions',
        reads: true,
        query: () => `{ resizeOptions(server: "${serverId}") { server_id } }`,
      },
      {
        name: 'serverNetworks',
        reads: true,
        query: () => `{ server(id: "${serverId}") { id networks { network_id } } }`,
      },
      { name: 'usage', reads: true, query: () => `{ usage { month } }` },
      { name: 'invoices', reads: true, query: () => `{ invoices { invoices { id } } }` },
      {
        name: 'rebootServer',
        reads: false,
        query: () => `mutation { rebootServer(id: "${serverId}") { id } }`,
      },
      {
        name: 'createNetwork',
        reads: false,
        query: () =>
          `mutation { createNetwork(input: { name: "n-${++serial}", region: "fra1", ip_range: "10.${100 + serial}.0.0/16" }) { id } }`,
      },
      {
        name: 'setFirewallRules',
        reads: false,
        query: () =>
          `mutation { setFirewallRules(id: "${firewall}", rules: [{ direction: "in", protocol: "tcp", port: "22", source_ips: ["0.0.0.0/0"] }]) { id } }`,
      },
      {
        name: 'createFirewall',
        reads: false,
        query: () => `mutation { createFirewall(input: { name: "fw-${++serial}" }) { id } }`,
      },
      {
        name: 'createSshKey',
        reads: false,
        query: () =>
          `mutation { createSshKey(input: { name: "k-${++serial}", public_key: "${ed25519Key()}" }) { id } }`,
      },
    ];

    /** What REST answers: the matrix's rules for a project resource. */
    const expected = (caller: Caller, op: { name: string; reads: boolean }): Outcome => {
      if (caller === 'none') return 'unauthenticated';
      if (caller === 'operator') return op.name === 'invoices' ? 'ok' : 'forbidden'; // operators list every invoice
      if (caller === 'stranger') {
        if (op.name === 'servers' || op.name === 'usage' || op.name === 'invoices') return 'ok'; // their own, empty
        if (['createNetwork', 'createFirewall', 'createSshKey'].includes(op.name)) return 'ok'; // in their own project
        return 'not_found';
      }
      if (caller === 'viewer' && !op.reads) return 'forbidden';
      return 'ok';
    };

    const run = async (caller: Caller, query: string): Promise<Outcome> => {
      const response = await fetch(`${cp.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(tokens[caller] ? { authorization: `Bearer ${tokens[caller]}` } : {}),
        },
        body: JSON.stringify({ query }),
      });
      if (response.status === 401) return 'unauthenticated';
      const body = (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
      if (!body.errors?.length) {
        // A read of another project's resource by id answers null data, never the resource.
        const values = Object.values((body.data ?? {}) as Record<string, unknown>);
        return values.every((v) => v === null) ? 'not_found' : 'ok';
      }
      return (body.errors[0].extensions?.code ?? 'error') as Outcome;
    };

    const mismatches: string[] = [];
    for (const op of operations)
      for (const caller of callers) {
        const got = await run(caller, op.query());
        const want = expected(caller, op);
        if (got !== want) mismatches.push(`${op.name} as ${caller}: ${got}, expected ${want}`);
      }
    assert.deepEqual(mismatches, []);
  });
}
