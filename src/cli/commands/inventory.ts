/**
 * `vmcloud inventory --list | --host NAME`: Ansible's dynamic inventory (a script inventory: point
 * `ansible -i` at an executable that runs this). Groups per region, product, status and label
 * (`label_<key>_<value>`); `ansible_host` is the server's public IPv4; hostvars carry its id, labels and
 * private addresses. Servers being deleted are left out. docs/ansible.md.
 */
import { VmcError } from '../../core/errors.ts';
import { listNetworks, listServers, type Network, type Server } from '../../contract/index.ts';
import { flagOf, stringOf, type Command } from '../command.ts';
import { listPages } from '../pagination.ts';

/** An Ansible group name: letters, digits and underscores. */
export const groupName = (...parts: string[]) =>
  parts
    .join('_')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');

export interface HostVars {
  ansible_host?: string;
  vmcloud_id: string;
  vmcloud_region: string;
  vmcloud_product: string;
  vmcloud_status: string;
  vmcloud_image: string;
  vmcloud_labels: Record<string, string>;
  vmcloud_private_ipv4: string[];
}

/** Each server's private addresses, from the attachments of the project's networks (network order). */
export function privateAddressesOf(networks: readonly Network[]): Map<string, string[]> {
  const byServer = new Map<string, string[]>();
  for (const network of networks)
    for (const attachment of network.attachments)
      byServer.set(attachment.server_id, [...(byServer.get(attachment.server_id) ?? []), attachment.ip]);
  return byServer;
}

export function hostVarsOf(server: Server, privateIpv4: readonly string[] = []): HostVars {
  return {
    ...(server.ipv4 ? { ansible_host: server.ipv4 } : {}),
    vmcloud_id: server.id,
    vmcloud_region: server.region,
    vmcloud_product: server.product,
    vmcloud_status: server.status,
    vmcloud_image: server.image,
    vmcloud_labels: server.labels,
    vmcloud_private_ipv4: [...privateIpv4],
  };
}

/** The `--list` document: every group with its hosts, `all.children`, and `_meta.hostvars`. */
export function inventoryOf(
  servers: readonly Server[],
  privateIpv4: ReadonlyMap<string, readonly string[]> = new Map(),
): Record<string, unknown> {
  const groups = new Map<string, Set<string>>();
  const add = (group: string, host: string) => {
    if (!groups.has(group)) groups.set(group, new Set());
    groups.get(group)!.add(host);
  };
  const hostvars: Record<string, HostVars> = {};
  for (const server of servers) {
    if (server.desired_state === 'deleted' || server.status === 'deleted') continue;
    hostvars[server.name] = hostVarsOf(server, privateIpv4.get(server.id));
    add(groupName('region', server.region), server.name);
    add(groupName('product', server.product), server.name);
    add(groupName('status', server.status), server.name);
    for (const [key, value] of Object.entries(server.labels)) add(groupName('label', key, value), server.name);
  }
  const names = [...groups.keys()].sort();
  const document: Record<string, unknown> = {
    _meta: { hostvars },
    all: { children: ['ungrouped', ...names] },
    ungrouped: { hosts: [] },
  };
  for (const name of names) document[name] = { hosts: [...groups.get(name)!].sort() };
  return document;
}

export const inventoryCommand: Command = {
  name: 'inventory',
  summary: 'Ansible dynamic inventory of the project’s servers (--list, --host NAME)',
  usage: '--list | --host NAME',
  description:
    'Prints the JSON Ansible reads from an inventory script: groups region_<code>, product_<code>,\n' +
    'status_<status> and label_<key>_<value>; ansible_host is the public IPv4. Use it from a script:\n' +
    '  #!/bin/sh\n  exec vmcloud inventory "$@"',
  options: {
    list: { type: 'boolean', help: 'every group and host (what ansible-inventory --list asks)' },
    host: { type: 'string', arg: 'NAME', help: 'the variables of one host' },
  },
  examples: ['vmcloud inventory --list', 'ansible-inventory -i ./vmcloud-inventory.sh --graph'],
  async run(ctx, { values }) {
    const host = stringOf(values, 'host');
    if (!flagOf(values, 'list') && host === undefined)
      throw new VmcError('invalid', 'pass --list or --host NAME', { fields: [{ field: 'list', message: 'required' }] });
    const client = await ctx.client();
    const { items } = await listPages(
      async (cursor) => {
        const page = await client.call(listServers, { query: { cursor, limit: '500' } });
        return { items: page.servers, next_cursor: page.next_cursor };
      },
      true,
      undefined,
    );
    const networks = await listPages(
      async (cursor) => {
        const page = await client.call(listNetworks, { query: { cursor, limit: '500' } });
        return { items: page.networks, next_cursor: page.next_cursor };
      },
      true,
      undefined,
    );
    const privateIpv4 = privateAddressesOf(networks.items);
    if (host !== undefined) {
      const server = items.find((s) => s.name === host && s.desired_state !== 'deleted');
      ctx.out(JSON.stringify(server ? hostVarsOf(server, privateIpv4.get(server.id)) : {}, null, 2) + '\n');
      return 0;
    }
    ctx.out(JSON.stringify(inventoryOf(items, privateIpv4), null, 2) + '\n');
    return 0;
  },
};
