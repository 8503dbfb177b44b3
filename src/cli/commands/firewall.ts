/**
 * `vmcloud firewall create|list|show|delete|add-rule|delete-rule|set-rules|apply|remove`. Rules on the
 * command line are `DIRECTION:PROTOCOL[:PORT]:ADDRESSES` (`in:tcp:443:0.0.0.0/0,::/0`, `in:icmp:0.0.0.0/0`,
 * `out:udp:53:9.9.9.9`); targets are `server:NAME|ID`, `label:SELECTOR`, or a bare server name or id.
 */
import { readFile } from 'node:fs/promises';
import {
  applyFirewall,
  createFirewall,
  deleteFirewall,
  firewallDirections,
  firewallProtocols,
  getFirewall,
  listFirewalls,
  removeFirewall,
  setFirewallRules,
  type CreateFirewallBody,
  type Firewall,
  type FirewallRule,
  type FirewallTarget,
} from '../../contract/index.ts';
import {
  integerOf,
  parseKeyValues,
  requiredString,
  stringOf,
  stringsOf,
  UsageError,
  type Command,
  type Group,
} from '../command.ts';
import { formatAge, formatLabels, renderData, renderDetail, renderList, type Column } from '../output.ts';
import { listCommand, selectorFilter } from '../list-command.ts';

/** `in:tcp:22:10.0.0.0/8,2001:db8::/32` → a rule (IPv6 addresses may hold colons: the port is optional). */
export function parseRuleSpec(spec: string, description?: string): FirewallRule {
  const match = /^(in|out):([a-z0-9]+):(?:(any|[0-9]{1,5}(?:-[0-9]{1,5})?):)?(.+)$/.exec(spec.trim());
  if (!match)
    throw new UsageError(`--rule takes DIRECTION:PROTOCOL[:PORT]:ADDRESSES, e.g. in:tcp:443:0.0.0.0/0, got ${spec}`);
  const [, direction, protocol, port, addresses] = match;
  if (!(firewallDirections as readonly string[]).includes(direction))
    throw new UsageError(`direction ${direction}: one of ${firewallDirections.join(', ')}`);
  if (!(firewallProtocols as readonly string[]).includes(protocol))
    throw new UsageError(`protocol ${protocol}: one of ${firewallProtocols.join(', ')}`);
  const ips = addresses
    .split(',')
    .map((ip) => ip.trim())
    .filter((ip) => ip !== '');
  return {
    direction: direction as FirewallRule['direction'],
    protocol: protocol as FirewallRule['protocol'],
    ...(port && port !== 'any' ? { port } : {}),
    ...(direction === 'in' ? { source_ips: ips } : { destination_ips: ips }),
    ...(description ? { description } : {}),
  };
}

/** `label:role=web` → a selector target; `server:web-1` or `web-1` → a server target. */
export function parseTargetSpec(spec: string): FirewallTarget {
  const text = spec.trim();
  if (text.startsWith('label:'))
    return { type: 'label_selector', label_selector: { selector: text.slice('label:'.length) } };
  const id = text.startsWith('server:') ? text.slice('server:'.length) : text;
  if (id === '') throw new UsageError('a target is server:NAME|ID, label:SELECTOR or a server name');
  return { type: 'server', server: { id } };
}

export const ruleText = (r: Firewall['rules'][number]) =>
  `${r.direction} ${r.protocol}${r.port ? ` ${r.port}` : ''} ${r.direction === 'in' ? 'from' : 'to'} ${(r.direction === 'in' ? r.source_ips : r.destination_ips).join(', ')}`;

const appliedText = (a: Firewall['applied_to'][number]) =>
  a.type === 'server'
    ? `server ${a.server?.id}`
    : `label ${a.label_selector?.selector} (${(a.applied_to_resources ?? []).map((r) => r.server.id).join(', ') || 'no server'})`;

const columns = (nowMs: number): Column<Firewall>[] => [
  { header: 'name', value: (f) => f.name },
  { header: 'id', value: (f) => f.id },
  { header: 'rules', value: (f) => f.rules.length, align: 'right' },
  { header: 'applied to', value: (f) => f.applied_to.length, align: 'right' },
  { header: 'labels', value: (f) => formatLabels(f.labels) },
  { header: 'age', value: (f) => formatAge(f.created_at, nowMs), align: 'right' },
];

export function firewallDetail(firewall: Firewall, nowMs: number): string {
  return (
    renderDetail([
      ['Name', firewall.name],
      ['ID', firewall.id],
      ['Applied to', firewall.applied_to.map(appliedText).join('; ') || '-'],
      ['Labels', formatLabels(firewall.labels)],
      ['Rules version', firewall.rules_version],
      ['Counters at', firewall.counters_updated_at ?? '-'],
      ['Created', `${firewall.created_at} (${formatAge(firewall.created_at, nowMs)} ago)`],
    ]) +
    (firewall.rules.length === 0
      ? 'No rules: inbound traffic is denied (replies to the server’s own connections pass), outbound is allowed.\n'
      : renderList(
          'table',
          [
            { header: '#', value: (r: Firewall['rules'][number] & { index: number }) => r.index, align: 'right' },
            { header: 'rule', value: (r) => ruleText(r) },
            { header: 'packets', value: (r) => r.counters.packets, align: 'right' },
            { header: 'bytes', value: (r) => r.counters.bytes, align: 'right' },
            { header: 'description', value: (r) => r.description ?? '' },
          ],
          firewall.rules.map((r, index) => ({ ...r, index })),
          '',
        ))
  );
}

const show = (ctx: Parameters<Command['run']>[0], firewall: Firewall) =>
  ctx.out(ctx.output === 'table' ? firewallDetail(firewall, ctx.now()) : renderData(ctx.output, { firewall }));

const create: Command = {
  name: 'create',
  summary: 'create a firewall, with rules and targets',
  usage: '--name NAME [--rule DIR:PROTO[:PORT]:ADDRS]... [--apply-to server:NAME|label:SELECTOR]... [--label k=v]...',
  description:
    'A server with a firewall gets only the inbound traffic some rule allows (and replies to its own connections);\n' +
    'outbound is free unless a firewall of it has out rules. Rules of several firewalls add up.',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'firewall name, unique in the project' },
    rule: { type: 'string', multiple: true, arg: 'SPEC', help: 'a rule, e.g. in:tcp:443:0.0.0.0/0,::/0 (repeatable)' },
    'apply-to': { type: 'string', multiple: true, arg: 'TARGET', help: 'server:NAME or label:SELECTOR (repeatable)' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'label (or several, comma separated)' },
  },
  examples: [
    'vmcloud firewall create --name web --rule in:tcp:443:0.0.0.0/0 --apply-to label:role=web',
    'vmcloud firewall create --name ssh --rule in:tcp:22:203.0.113.0/24,2001:db8::/32 --apply-to web-1',
  ],
  async run(ctx, { values }) {
    const body: CreateFirewallBody = { name: requiredString(values, 'name') };
    const rules = stringsOf(values, 'rule').map((spec) => parseRuleSpec(spec));
    if (rules.length > 0) body.rules = rules;
    const targets = stringsOf(values, 'apply-to').map(parseTargetSpec);
    if (targets.length > 0) body.apply_to = targets;
    const labels = parseKeyValues(stringsOf(values, 'label'), '--label');
    if (Object.keys(labels).length > 0) body.labels = labels;
    const client = await ctx.client();
    show(ctx, (await client.call(createFirewall, { body })).firewall);
    return 0;
  },
};

const list = listCommand({
  plural: 'firewalls',
  summary: 'list firewalls',
  usage: '[--selector k=v,...] [--limit N] [--all]',
  filters: selectorFilter,
  examples: ['vmcloud firewall list', 'vmcloud firewall list -o json'],
  query: (values) => ({ label_selector: stringOf(values, 'selector') }),
  page: async (client, query) => {
    const page = await client.call(listFirewalls, { query });
    return { items: page.firewalls, next_cursor: page.next_cursor };
  },
  columns,
});

const showCommand: Command = {
  name: 'show',
  summary: 'show a firewall: its targets, rules and their counters',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud firewall show web'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    show(ctx, (await client.call(getFirewall, { params: { id: positionals[0].trim() } })).firewall);
    return 0;
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete a firewall (refused while it is applied)',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud firewall delete web'],
  async run(ctx, { positionals }) {
    const ref = positionals[0].trim();
    const client = await ctx.client();
    await client.call(deleteFirewall, { params: { id: ref } });
    if (ctx.output === 'table') ctx.out(`firewall ${ref} deleted\n`);
    else ctx.out(renderData(ctx.output, { deleted: ref }));
    return 0;
  },
};

/** Reads the rules, changes them, writes the whole list back (`set_rules`). */
async function changeRules(
  ctx: Parameters<Command['run']>[0],
  ref: string,
  change: (rules: FirewallRule[]) => FirewallRule[],
): Promise<number> {
  const client = await ctx.client();
  const { firewall } = await client.call(getFirewall, { params: { id: ref } });
  const current: FirewallRule[] = firewall.rules.map((r) => ({
    direction: r.direction,
    protocol: r.protocol,
    ...(r.port ? { port: r.port } : {}),
    ...(r.direction === 'in' ? { source_ips: r.source_ips } : { destination_ips: r.destination_ips }),
    ...(r.description ? { description: r.description } : {}),
  }));
  const rules = change(current);
  show(ctx, (await client.call(setFirewallRules, { params: { id: firewall.id }, body: { rules } })).firewall);
  return 0;
}

const addRule: Command = {
  name: 'add-rule',
  summary: 'add a rule to a firewall',
  usage: 'NAME|ID --rule DIR:PROTO[:PORT]:ADDRS [--description TEXT]',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    rule: { type: 'string', arg: 'SPEC', help: 'e.g. in:tcp:22:203.0.113.0/24' },
    description: { type: 'string', arg: 'TEXT', help: 'what the rule is for' },
  },
  examples: ['vmcloud firewall add-rule web --rule in:tcp:80:0.0.0.0/0,::/0 --description http'],
  async run(ctx, { positionals, values }) {
    const rule = parseRuleSpec(requiredString(values, 'rule'), stringOf(values, 'description'));
    return changeRules(ctx, positionals[0].trim(), (rules) => [...rules, rule]);
  },
};

const deleteRule: Command = {
  name: 'delete-rule',
  summary: 'delete a rule of a firewall, by its number in `firewall show`',
  usage: 'NAME|ID --index N',
  args: [{ name: 'NAME|ID', required: true }],
  options: { index: { type: 'string', arg: 'N', help: 'the rule’s number (#) in `firewall show`' } },
  examples: ['vmcloud firewall delete-rule web --index 1'],
  async run(ctx, { positionals, values }) {
    const index = integerOf(values, 'index', { min: 0, max: 10_000 });
    if (index === undefined) throw new UsageError('missing --index N (the rule’s # in `firewall show`)');
    return changeRules(ctx, positionals[0].trim(), (rules) => {
      if (index >= rules.length) throw new UsageError(`the firewall has ${rules.length} rule(s): no rule #${index}`);
      return rules.filter((_, i) => i !== index);
    });
  },
};

const setRules: Command = {
  name: 'set-rules',
  summary: 'replace all rules of a firewall from a JSON file',
  usage: 'NAME|ID --file RULES.json',
  description:
    'The file holds a JSON list of rules (or {"rules": [...]}) as the API takes them; all replace the old at once.',
  args: [{ name: 'NAME|ID', required: true }],
  options: { file: { type: 'string', arg: 'FILE', help: 'JSON rules' } },
  examples: ['vmcloud firewall set-rules web --file rules.json'],
  async run(ctx, { positionals, values }) {
    const file = requiredString(values, 'file');
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`cannot read rules from ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const rules = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown } | null)?.rules;
    if (!Array.isArray(rules)) throw new UsageError(`${file} holds no list of rules`);
    const client = await ctx.client();
    const { firewall } = await client.call(setFirewallRules, {
      params: { id: positionals[0].trim() },
      body: { rules: rules as FirewallRule[] },
    });
    show(ctx, firewall);
    return 0;
  },
};

const targetsCommand = (name: 'apply' | 'remove'): Command => ({
  name,
  summary:
    name === 'apply'
      ? 'apply a firewall to servers or a label selector'
      : 'remove a firewall from servers or selectors',
  usage: 'NAME|ID [--server NAME|ID]... [--selector SELECTOR]...',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    server: { type: 'string', multiple: true, arg: 'NAME|ID', help: 'a server (repeatable)' },
    selector: { type: 'string', multiple: true, arg: 'SELECTOR', help: 'a label selector, e.g. role=web (repeatable)' },
  },
  examples: [`vmcloud firewall ${name} web --selector role=web`, `vmcloud firewall ${name} web --server web-1`],
  async run(ctx, { positionals, values }) {
    const targets: FirewallTarget[] = [
      ...stringsOf(values, 'server').map((id) => ({ type: 'server' as const, server: { id } })),
      ...stringsOf(values, 'selector').map((selector) => ({
        type: 'label_selector' as const,
        label_selector: { selector },
      })),
    ];
    if (targets.length === 0) throw new UsageError('give at least one --server or --selector');
    const client = await ctx.client();
    const params = { id: positionals[0].trim() };
    const { firewall } =
      name === 'apply'
        ? await client.call(applyFirewall, { params, body: { apply_to: targets } })
        : await client.call(removeFirewall, { params, body: { remove_from: targets } });
    show(ctx, firewall);
    return 0;
  },
});

export const firewallGroup: Group = {
  name: 'firewall',
  summary: 'firewalls: create, list, show, rules, apply to servers and selectors, delete',
  commands: [
    create,
    list,
    showCommand,
    remove,
    addRule,
    deleteRule,
    setRules,
    targetsCommand('apply'),
    targetsCommand('remove'),
  ],
};
