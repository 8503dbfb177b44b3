/**
 * GraphQL at /graphql with real clients: graphql-request for queries and mutations, graphql-ws for a
 * subscription that receives a server's status as the sim agent boots it. Same tokens, roles and tenant
 * isolation as REST; depth and cost limits; nested fields batched (statements counted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphQLClient, ClientError, gql } from 'graphql-request';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { AsyncLocalStorage } from 'node:async_hooks';
import { startTestControlPlane, testDialects, until } from './helpers.ts';

const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ClientError, String(error));
    return error.response.errors?.[0] as { message: string; extensions?: { code?: string } };
  }
  assert.fail('expected a GraphQL error');
};

for (const dialect of testDialects()) {
  test(
    `GraphQL: queries, mutations, subscriptions, isolation, limits (${dialect})`,
    { timeout: 120_000 },
    async (t) => {
      // Statements are counted for the requests that ask for it only (header x-count-statements): the
      // background loops of the control plane query the same database meanwhile.
      const counting = new AsyncLocalStorage<true>();
      const cp = await startTestControlPlane(dialect, {}, (plane) =>
        plane.api.addHook('onRequest', (request, _reply, done) => {
          if (request.headers['x-count-statements']) counting.enterWith(true);
          done();
        }),
      );
      t.after(() => cp.dispose());
      const endpoint = `${cp.url}/graphql`;
      const client = (token: string) => new GraphQLClient(endpoint, { headers: { authorization: `Bearer ${token}` } });
      const owner = client(cp.secrets.projectToken);

      // Without a token: 401 problem+json, like REST. The schema is public.
      const anonymous = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ version }' }),
      });
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as { code: string }).code, 'unauthenticated');
      const sdl = await fetch(`${cp.url}/graphql/schema.graphql`);
      assert.equal(sdl.status, 200);
      const sdlText = await sdl.text();
      assert.match(sdlText, /type Server \{/);
      assert.match(sdlText, /serverStatus\(id: ID!\): ServerStatusChange!/);

      // Catalog and project.
      const catalog = await owner.request<{
        regions: Array<{ code: string }>;
        products: Array<{ code: string }>;
        project: { usage: unknown };
      }>(gql`
        {
          regions {
            code
          }
          products(region: "fra1") {
            code
          }
          project {
            id
            usage
          }
        }
      `);
      assert.ok(catalog.regions.some((r) => r.code === 'fra1'));
      assert.ok(catalog.products.some((p) => p.code === 'vps-nano'));
      assert.ok(catalog.project.usage);

      // A mutation returns the action, as REST does; the same service refuses bad input with its code.
      const created = await owner.request<{
        createServer: { server: { id: string }; action: { id: string; status: string } };
      }>(
        gql`
          mutation ($input: CreateServerInput!) {
            createServer(input: $input) {
              server {
                id
              }
              action {
                id
                status
              }
            }
          }
        `,
        { input: { name: 'gql-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' } },
      );
      const serverId = created.createServer.server.id;
      assert.equal((await cp.waitForAction(created.createServer.action.id)).status, 'success');
      const refused = await errorOf(
        owner.request(gql`
          mutation {
            createServer(input: { name: "gql-1", product: "vps-nano", region: "fra1", image: "debian-12" }) {
              server {
                id
              }
            }
          }
        `),
      );
      assert.equal(refused.extensions?.code, 'conflict');

      // A server's actions; products with their live availability per region; a firewall applied by label.
      const withActions = await owner.request<{ server: { actions: Array<{ command: string; status: string }> } }>(
        gql`
          query ($id: ID!) {
            server(id: $id) {
              actions {
                command
                status
              }
            }
          }
        `,
        { id: serverId },
      );
      assert.deepEqual(
        withActions.server.actions.map((a) => [a.command, a.status]),
        [['create', 'success']],
      );
      const sold = await owner.request<{
        products: Array<{ code: string; availability: Array<{ region: string; availability: string }> }>;
      }>(gql`
        {
          products {
            code
            availability {
              region
              availability
            }
          }
        }
      `);
      const nano = sold.products.find((p) => p.code === 'vps-nano')!;
      assert.equal(nano.availability.find((a) => a.region === 'fra1')?.availability, 'available');
      assert.equal(nano.availability.find((a) => a.region === 'lon1')?.availability, 'none', 'LON1 in maintenance');
      const fw = await owner.request<{
        createFirewall: { id: string; rules: Array<{ port: string }>; applied_to: unknown };
      }>(gql`
        mutation {
          createFirewall(
            input: {
              name: "gql-web"
              rules: [{ direction: "in", protocol: "tcp", port: "443", source_ips: ["0.0.0.0/0", "::/0"] }]
              apply_to: [{ server: "gql-1" }]
            }
          ) {
            id
            rules {
              port
            }
            applied_to
          }
        }
      `);
      assert.equal(fw.createFirewall.rules[0].port, '443');
      assert.match(JSON.stringify(fw.createFirewall.applied_to), new RegExp(serverId));

      // Networks and floating IPs: created and attached through GraphQL, read back with their servers.
      const network = await owner.request<{ createNetwork: { id: string; mtu: number } }>(gql`
        mutation {
          createNetwork(input: { name: "gql-net", region: "fra1", ip_range: "10.9.0.0/16" }) {
            id
            mtu
          }
        }
      `);
      assert.match(network.createNetwork.id, /^net_/);
      const attached = await owner.request<{ attachServerToNetwork: { id: string } }>(
        gql`
          mutation ($server: ID!) {
            attachServerToNetwork(server: $server, network: "gql-net") {
              id
            }
          }
        `,
        { server: serverId },
      );
      assert.equal((await cp.waitForAction(attached.attachServerToNetwork.id)).status, 'success');
      const fip = await owner.request<{ createFloatingIp: { floating_ip: { id: string; ip: string } } }>(
        gql`
          mutation ($server: String!) {
            createFloatingIp(input: { region: "fra1", name: "gql-vip", server: $server }) {
              floating_ip {
                id
                ip
              }
            }
          }
        `,
        { server: serverId },
      );
      await until('the floating IP routed', async () => {
        const got = await owner.request<{ floating_ip: { server: { id: string } | null } }>(
          gql`
            query ($id: ID!) {
              floating_ip(id: $id) {
                server {
                  id
                }
              }
            }
          `,
          { id: fip.createFloatingIp.floating_ip.id },
        );
        return got.floating_ip.server?.id === serverId ? true : undefined;
      });
      const networks = await owner.request<{
        networks: { networks: Array<{ name: string; attachments: Array<{ ip: string; server: { name: string } }> }> };
      }>(gql`
        {
          networks {
            networks {
              name
              attachments {
                ip
                server {
                  name
                }
              }
            }
          }
        }
      `);
      const gqlNet = networks.networks.networks.find((n) => n.name === 'gql-net')!;
      assert.equal(gqlNet.attachments[0].server.name, 'gql-1');
      assert.match(gqlNet.attachments[0].ip, /^10\.9\./);
      // Billing: the floating IPv4 and the server are on this month's usage; no invoice yet.
      const billing = await owner.request<{
        usage: { so_far: { lines: Array<{ kind: string; item: string }> } };
        invoices: { invoices: unknown[] };
      }>(gql`
        {
          usage {
            so_far {
              lines {
                kind
                item
              }
            }
          }
          invoices {
            invoices {
              id
            }
          }
        }
      `);
      await until('the usage holds the server and the floating IP', async () => {
        const usage = await owner.request<{ usage: { so_far: { lines: Array<{ item: string }> } } }>(gql`
          {
            usage {
              so_far {
                lines {
                  item
                }
              }
            }
          }
        `);
        const items = usage.usage.so_far.lines.map((l) => l.item);
        return items.includes('floating_ipv4') && items.some((i) => i.startsWith('product:')) ? true : undefined;
      });
      assert.deepEqual(billing.invoices.invoices, []);
      assert.equal(
        (
          await errorOf(
            owner.request(gql`
              {
                network(id: "net_00000000000000000000000000") {
                  id
                }
              }
            `),
          )
        ).extensions?.code,
        'not_found',
      );

      // Volumes attached to servers; a nested query batched: the statements reading volumes do not grow with servers.
      for (const name of ['gql-2', 'gql-3', 'gql-4']) {
        const more = await cp.call('POST', '/v1/servers', {
          body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12' },
        });
        assert.equal((await cp.waitForAction(more.body.action.id)).status, 'success');
      }
      const volume = await cp.call('POST', '/v1/volumes', { body: { name: 'gql-vol', size_gib: 1, region: 'fra1' } });
      const attach = await cp.call('POST', `/v1/volumes/${volume.body.volume.id}/actions/attach`, {
        body: { server: serverId },
      });
      assert.equal((await cp.waitForAction(attach.body.action.id)).status, 'success');

      const executor = cp.cp.db.getExecutor() as unknown as {
        executeQuery: (q: { sql: string }, ...rest: unknown[]) => unknown;
      };
      const original = executor.executeQuery.bind(executor);
      const statements: string[] = [];
      executor.executeQuery = (query, ...rest) => {
        if (counting.getStore()) statements.push(query.sql);
        return original(query, ...rest);
      };
      const countedOwner = new GraphQLClient(endpoint, {
        headers: { authorization: `Bearer ${cp.secrets.projectToken}`, 'x-count-statements': '1' },
      });
      const nested = await countedOwner.request<{
        servers: { servers: Array<{ id: string; volumes: Array<{ id: string; server: { id: string } }> }> };
      }>(gql`
        {
          servers(limit: 50) {
            servers {
              id
              name
              volumes {
                id
                name
                server {
                  id
                  name
                }
              }
            }
          }
        }
      `);
      executor.executeQuery = original;
      const withVolume = nested.servers.servers.find((s) => s.id === serverId)!;
      assert.equal(withVolume.volumes[0].server.id, serverId);
      assert.equal(nested.servers.servers.length, 4);
      const reads = (table: string) => statements.filter((sql) => new RegExp(`from "${table}"`).test(sql)).length;
      assert.ok(reads('servers') >= 1, "the request's own statements were counted");
      // 4 servers, each with its volumes, each volume with its server: one page of each list, not one per parent.
      assert.ok(reads('volumes') <= 1, `volumes read ${reads('volumes')} times:\n${statements.join('\n')}`);
      assert.ok(reads('servers') <= 3, `servers read ${reads('servers')} times:\n${statements.join('\n')}`);

      // Tenant isolation: another project's token sees none of it.
      const other = await cp.call('POST', '/v1/projects', {
        token: cp.secrets.operatorToken,
        body: { name: 'gql-other', owner_email: 'gql@example.com' },
      });
      const stranger = client(other.body.secret);
      const notFound = await errorOf(
        stranger.request(
          gql`
            query ($id: ID!) {
              server(id: $id) {
                id
              }
            }
          `,
          { id: serverId },
        ),
      );
      assert.equal(notFound.extensions?.code, 'not_found');
      const theirs = await stranger.request<{ servers: { servers: unknown[] } }>(gql`
        {
          servers {
            servers {
              id
            }
          }
        }
      `);
      assert.deepEqual(theirs.servers.servers, []);
      const stop = await errorOf(
        stranger.request(
          gql`
            mutation ($id: ID!) {
              stopServer(id: $id) {
                id
              }
            }
          `,
          { id: serverId },
        ),
      );
      assert.equal(stop.extensions?.code, 'not_found');
      // Roles: a viewer reads, but does not stop.
      const viewerToken = (await cp.call('POST', '/v1/tokens', { body: { name: 'gql-viewer', role: 'viewer' } })).body
        .secret;
      const viewer = client(viewerToken);
      assert.equal(
        (
          await viewer.request<{ server: { id: string } }>(
            gql`
              query ($id: ID!) {
                server(id: $id) {
                  id
                }
              }
            `,
            { id: serverId },
          )
        ).server.id,
        serverId,
      );
      const forbidden = await errorOf(
        viewer.request(
          gql`
            mutation ($id: ID!) {
              stopServer(id: $id) {
                id
              }
            }
          `,
          { id: serverId },
        ),
      );
      assert.equal(forbidden.extensions?.code, 'forbidden');

      // Limits: too deep, too many fields.
      const deep = await errorOf(
        owner.request(gql`
          {
            servers {
              servers {
                volumes {
                  server {
                    volumes {
                      server {
                        volumes {
                          server {
                            volumes {
                              id
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        `),
      );
      assert.match(deep.message, /depth|exceeds/i);
      const wide = `{ ${Array.from({ length: 600 }, (_, i) => `a${i}: version`).join(' ')} }`;
      const costly = await errorOf(owner.request(wide));
      assert.match(costly.message, /at most 500/);

      // Subscription over graphql-ws: the server's status as its (simulated) host stops and boots it.
      const ws = createWsClient({
        url: endpoint.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${cp.secrets.projectToken}` },
      });
      t.after(() => ws.dispose());
      const statuses: string[] = [];
      const subscription = ws.iterate<{ serverStatus: { status: string; server_id: string } }>({
        query: `subscription ($id: ID!) { serverStatus(id: $id) { server_id event from status at } }`,
        variables: { id: serverId },
      });
      const collecting = (async () => {
        for await (const message of subscription) {
          assert.equal(message.data?.serverStatus.server_id, serverId);
          statuses.push(message.data!.serverStatus.status);
          if (message.data!.serverStatus.status === 'running') break;
        }
      })();
      // graphql-ws acknowledges no subscription: stop and start the server until its statuses arrive (the
      // first cycle, unless the subscription was not yet followed when it ran).
      for (let cycle = 0; cycle < 3 && !statuses.includes('running'); cycle++) {
        const stopped = await cp.call('POST', `/v1/servers/${serverId}/actions/stop`, { body: {} });
        assert.equal((await cp.waitForAction(stopped.body.action.id)).status, 'success');
        const started = await cp.call('POST', `/v1/servers/${serverId}/actions/start`, { body: {} });
        assert.equal((await cp.waitForAction(started.body.action.id)).status, 'success');
        await until('stopped then running received', () => statuses.includes('running'), 5_000).catch(() => null);
      }
      await collecting;
      assert.equal(statuses.at(-1), 'running', statuses.join(','));
      assert.ok(
        statuses.every((s) => s === 'stopped' || s === 'running'),
        statuses.join(','),
      );

      // Another tenant cannot subscribe to that server.
      const strangerWs = createWsClient({
        url: endpoint.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${other.body.secret}` },
      });
      t.after(() => strangerWs.dispose());
      const denied = strangerWs.iterate({
        query: `subscription ($id: ID!) { serverStatus(id: $id) { status } }`,
        variables: { id: serverId },
      });
      await assert.rejects(
        (async () => {
          for await (const _ of denied) assert.fail('no status for another tenant');
        })(),
        (error: unknown) => JSON.stringify(error).includes('not_found') || /not found/i.test(JSON.stringify(error)),
      );
    },
  );
}
