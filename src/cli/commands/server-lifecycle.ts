/**
 * `vmcloud server resize|resize-options|rebuild|protect|unprotect|attach-iso|detach-iso`: the lifecycle
 * beyond power.
 */
import {
  attachIso,
  detachIso,
  getServerResizeOptions,
  rebuildServer,
  resizeServer,
  updateServer,
  type ResizeOption,
} from '../../contract/index.ts';
import { flagOf, requiredString, type Command, type Context, type Input } from '../command.ts';
import { formatCents, renderData, renderList, type Column } from '../output.ts';
import { normalizeProduct, resolveServer } from '../resolve.ts';
import { finishAction, waitOption } from './action.ts';

export const resize: Command = {
  name: 'resize',
  summary: 'resize a stopped server to another product of the same kind',
  usage: 'NAME|ID --product CODE [--wait]',
  description:
    'The server must be stopped. Its disk grows with a larger product (at the next start) and never shrinks:\n' +
    'a smaller product keeps the current disk. A server on a real host stays on it (409 migration_unsupported\n' +
    'when the new size does not fit there).',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    product: { type: 'string', arg: 'CODE', help: 'the new product (see `vmcloud product list`)' },
    ...waitOption,
  },
  examples: ['vmcloud server stop web-1 --wait && vmcloud server resize web-1 --product vps-pro --wait'],
  async run(ctx, { positionals, values }) {
    const productText = requiredString(values, 'product');
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    const product = await normalizeProduct(client, productText);
    const { action } = await client.call(resizeServer, { params: { id: server.id }, body: { product } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `resize ${server.name}`,
      done: `server ${server.name} (${server.id}) resized to ${product}`,
      accepted: `resizing server ${server.name} (${server.id}) to ${product}: action ${action.id} ${action.status}`,
    });
  },
};

const signedCents = (cents: number) => (cents > 0 ? '+' : '') + formatCents(cents);

const resizeOptionColumns: Column<ResizeOption>[] = [
  { header: 'product', value: (o) => o.product },
  { header: 'vcpus', value: (o) => o.vcpus, align: 'right' },
  { header: 'memory', value: (o) => `${o.memory_mib / 1024} GiB`, align: 'right' },
  { header: 'disk after', value: (o) => `${o.disk_gib_after} GiB`, align: 'right' },
  { header: 'hourly', value: (o) => formatCents(o.price.hourly_cents, o.price.currency), align: 'right' },
  { header: 'monthly', value: (o) => formatCents(o.price.monthly_cents, o.price.currency), align: 'right' },
  { header: 'change', value: (o) => `${o.direction} ${signedCents(o.monthly_difference_cents)}/mo` },
  { header: 'on host', value: (o) => (o.fits_current_host === null ? '-' : o.fits_current_host ? 'fits' : 'no') },
  { header: 'region', value: (o) => o.region_availability },
  { header: 'possible', value: (o) => (o.possible ? 'yes' : `no (${o.reason})`) },
];

export const resizeOptions: Command = {
  name: 'resize-options',
  summary: 'the products a server can be resized to, with prices and whether each fits now',
  usage: 'NAME|ID',
  description:
    'Products of the same kind sold in the server’s region, cheapest first: price, grow or shrink, the disk\n' +
    'after (it never shrinks), whether the new size fits on the server’s host now, the region’s availability,\n' +
    'and why a resize would be refused (migration_unsupported, no_capacity). A snapshot: resize checks again.',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud server resize-options web-1', 'vmcloud server resize-options web-1 -o json'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    const answer = await client.call(getServerResizeOptions, { params: { id: server.id } });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, answer));
      return 0;
    }
    ctx.out(
      `server ${server.name} (${server.id}): ${answer.product}, disk ${answer.disk_gib} GiB` +
        (answer.must_stop_first ? ' — stop it before resizing' : '') +
        '\n' +
        renderList('table', resizeOptionColumns, answer.options, 'No other product of this kind in its region.'),
    );
    return 0;
  },
};

export const rebuild: Command = {
  name: 'rebuild',
  summary: 'reinstall a server from an image, keeping its id and address',
  usage: 'NAME|ID --image SLUG [--wait]',
  description: 'Replaces the disk with a fresh one from the image (its data and snapshots are gone) and boots it.',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    image: { type: 'string', arg: 'SLUG', help: 'image slug or id (see `vmcloud image list`)' },
    ...waitOption,
  },
  examples: ['vmcloud server rebuild web-1 --image debian-12 --wait'],
  async run(ctx, { positionals, values }) {
    const image = requiredString(values, 'image').trim().toLowerCase();
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    const { action } = await client.call(rebuildServer, { params: { id: server.id }, body: { image } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `rebuild ${server.name}`,
      done: `server ${server.name} (${server.id}) rebuilt from ${image}`,
      accepted: `rebuilding server ${server.name} (${server.id}) from ${image}: action ${action.id} ${action.status}`,
    });
  },
};

function protection(name: 'protect' | 'unprotect'): Command {
  const on = name === 'protect';
  return {
    name,
    summary: on ? 'refuse deleting or rebuilding a server' : 'allow deleting or rebuilding a server again',
    usage: 'NAME|ID [--delete] [--rebuild]',
    description: `Without --delete or --rebuild, ${on ? 'turns on' : 'turns off'} both protections.`,
    args: [{ name: 'NAME|ID', required: true }],
    options: {
      delete: { type: 'boolean', help: `${on ? 'turn on' : 'turn off'} delete protection` },
      rebuild: { type: 'boolean', help: `${on ? 'turn on' : 'turn off'} rebuild protection` },
    },
    examples: [`vmcloud server ${name} web-1`, `vmcloud server ${name} web-1 --delete`],
    async run(ctx: Context, { positionals, values }: Input) {
      const both = !flagOf(values, 'delete') && !flagOf(values, 'rebuild');
      const client = await ctx.client();
      const server = await resolveServer(client, positionals[0]);
      const body = {
        ...(both || flagOf(values, 'delete') ? { delete_protection: on } : {}),
        ...(both || flagOf(values, 'rebuild') ? { rebuild_protection: on } : {}),
      };
      const updated = (await client.call(updateServer, { params: { id: server.id }, body })).server;
      if (ctx.output !== 'table') ctx.out(renderData(ctx.output, updated));
      else
        ctx.out(
          `server ${updated.name} (${updated.id}): delete protection ${updated.delete_protection ? 'on' : 'off'}, rebuild protection ${updated.rebuild_protection ? 'on' : 'off'}\n`,
        );
      return 0;
    },
  };
}

export const protect = protection('protect');
export const unprotect = protection('unprotect');

export const attachIsoCommand: Command = {
  name: 'attach-iso',
  summary: 'attach an ISO image and boot from it (rescue or install)',
  usage: 'NAME|ID --iso SLUG [--wait]',
  description: 'A running server restarts to boot the ISO; a stopped one boots it at its next start.',
  args: [{ name: 'NAME|ID', required: true }],
  options: { iso: { type: 'string', arg: 'SLUG', help: 'an ISO image (see `vmcloud image list`)' }, ...waitOption },
  examples: ['vmcloud server attach-iso web-1 --iso rescue --wait'],
  async run(ctx, { positionals, values }) {
    const iso = requiredString(values, 'iso').trim().toLowerCase();
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    const { action } = await client.call(attachIso, { params: { id: server.id }, body: { iso } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `attach-iso ${server.name}`,
      done: `server ${server.name} (${server.id}) boots ${iso}`,
      accepted: `attaching ${iso} to server ${server.name} (${server.id}): action ${action.id} ${action.status}`,
    });
  },
};

export const detachIsoCommand: Command = {
  name: 'detach-iso',
  summary: 'detach the ISO image: the server boots its disk again',
  usage: 'NAME|ID [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: { ...waitOption },
  examples: ['vmcloud server detach-iso web-1 --wait'],
  async run(ctx, { positionals, values }) {
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    const { action } = await client.call(detachIso, { params: { id: server.id } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `detach-iso ${server.name}`,
      done: `server ${server.name} (${server.id}) boots its disk`,
      accepted: `detaching the ISO of server ${server.name} (${server.id}): action ${action.id} ${action.status}`,
    });
  },
};
