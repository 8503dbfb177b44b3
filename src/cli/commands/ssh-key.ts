/** `vmcloud ssh-key create|list|show|rename|delete`: the project's saved SSH public keys. */
import { VmcError } from '../../core/errors.ts';
import {
  createSshKey,
  deleteSshKey,
  getSshKey,
  listSshKeys,
  updateSshKey,
  type CreateSshKeyBody,
  type SshKey,
  type UpdateSshKeyBody,
} from '../../contract/index.ts';
import { parseKeyValues, requiredString, stringOf, stringsOf, type Command, type Group } from '../command.ts';
import { formatAge, formatLabels, renderData, renderDetail, type Column } from '../output.ts';
import { listCommand, selectorFilter } from '../list-command.ts';
import { readPublicKeyFile } from '../resolve.ts';

export const sshKeyColumns = (nowMs: number): Column<SshKey>[] => [
  { header: 'name', value: (k) => k.name },
  { header: 'id', value: (k) => k.id },
  { header: 'type', value: (k) => k.type },
  { header: 'fingerprint', value: (k) => k.fingerprint },
  { header: 'labels', value: (k) => formatLabels(k.labels) },
  { header: 'age', value: (k) => formatAge(k.created_at, nowMs), align: 'right' },
];

export function sshKeyDetail(key: SshKey, nowMs: number): string {
  return renderDetail([
    ['Name', key.name],
    ['ID', key.id],
    ['Type', `${key.type} (${key.bits} bits)`],
    ['Fingerprint', key.fingerprint],
    ['Public key', key.public_key],
    ['Labels', formatLabels(key.labels)],
    ['Created', `${key.created_at} (${formatAge(key.created_at, nowMs)} ago)`],
  ]);
}

const show = (ctx: Parameters<Command['run']>[0], key: SshKey) =>
  ctx.out(ctx.output === 'table' ? sshKeyDetail(key, ctx.now()) : renderData(ctx.output, { ssh_key: key }));

const create: Command = {
  name: 'create',
  summary: 'save an SSH public key',
  usage: "--name NAME (--public-key-file PATH | --public-key 'ssh-ed25519 …') [--label k=v]...",
  description:
    'Saves a public key under a name; `vmcloud server create --ssh-key NAME` then puts it in a new server.\n' +
    'Accepted: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of 2048 bits or more. A private key is refused.',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'key name, unique in the project (letters, digits, . _ - @)' },
    'public-key-file': { type: 'string', arg: 'PATH', help: 'a public key file, e.g. ~/.ssh/id_ed25519.pub' },
    'public-key': { type: 'string', arg: 'KEY', help: 'the public key line itself' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'label (or several, comma separated)' },
  },
  examples: [
    'vmcloud ssh-key create --name laptop --public-key-file ~/.ssh/id_ed25519.pub',
    "vmcloud ssh-key create --name ci --public-key 'ssh-ed25519 AAAAC3Nza… ci@example'",
  ],
  async run(ctx, { values }) {
    const name = requiredString(values, 'name');
    const file = stringOf(values, 'public-key-file');
    const inline = stringOf(values, 'public-key');
    if ((file === undefined) === (inline === undefined))
      throw new VmcError('invalid', 'give exactly one of --public-key-file PATH and --public-key KEY', {
        fields: [{ field: 'public_key', message: 'one of --public-key-file, --public-key' }],
      });
    const body: CreateSshKeyBody = {
      name,
      public_key: file !== undefined ? await readPublicKeyFile(file, ctx.cwd) : inline!.trim(),
    };
    const labels = parseKeyValues(stringsOf(values, 'label'), '--label');
    if (Object.keys(labels).length > 0) body.labels = labels;
    const client = await ctx.client();
    show(ctx, (await client.call(createSshKey, { body })).ssh_key);
    return 0;
  },
};

const list = listCommand({
  plural: 'SSH keys',
  summary: 'list SSH keys',
  usage: '[--selector k=v,...] [--name NAME] [--limit N] [--all]',
  filters: {
    ...selectorFilter,
    name: { type: 'string', arg: 'NAME', help: 'only the key of this name' },
  },
  examples: ['vmcloud ssh-key list', 'vmcloud ssh-key list -o json'],
  query: (values) => ({ label_selector: stringOf(values, 'selector'), name: stringOf(values, 'name') }),
  page: async (client, query) => {
    const page = await client.call(listSshKeys, { query });
    return { items: page.ssh_keys, next_cursor: page.next_cursor };
  },
  columns: sshKeyColumns,
});

const showCommand: Command = {
  name: 'show',
  summary: 'show an SSH key',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud ssh-key show laptop'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    show(ctx, (await client.call(getSshKey, { params: { id: positionals[0].trim() } })).ssh_key);
    return 0;
  },
};

const update: Command = {
  name: 'update',
  summary: 'rename an SSH key or replace its labels',
  usage: 'NAME|ID [--name NEW] [--label k=v]...',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    name: { type: 'string', arg: 'NEW', help: 'the new name' },
    label: { type: 'string', multiple: true, arg: 'k=v', help: 'labels replacing the current ones' },
  },
  examples: ['vmcloud ssh-key update laptop --name laptop-2026'],
  async run(ctx, { positionals, values }) {
    const body: UpdateSshKeyBody = {};
    const name = stringOf(values, 'name');
    if (name !== undefined) body.name = name.trim();
    const labels = stringsOf(values, 'label');
    if (labels.length > 0) body.labels = parseKeyValues(labels, '--label');
    const client = await ctx.client();
    show(ctx, (await client.call(updateSshKey, { params: { id: positionals[0].trim() }, body })).ssh_key);
    return 0;
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete an SSH key (servers made with it keep it)',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud ssh-key delete laptop'],
  async run(ctx, { positionals }) {
    const ref = positionals[0].trim();
    const client = await ctx.client();
    await client.call(deleteSshKey, { params: { id: ref } });
    if (ctx.output === 'table') ctx.out(`ssh key ${ref} deleted\n`);
    else ctx.out(renderData(ctx.output, { deleted: ref }));
    return 0;
  },
};

export const sshKeyGroup: Group = {
  name: 'ssh-key',
  summary: 'saved SSH public keys: create, list, show, update, delete',
  commands: [create, list, showCommand, update, remove],
};
