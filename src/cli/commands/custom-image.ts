/** `vmcloud server create-image`, `vmcloud image show|delete`: custom images made from a project's servers. */
import { createServerImage, deleteCustomImage, getCustomImage, type CustomImage } from '../../contract/index.ts';
import { flagOf, requiredString, type Command } from '../command.ts';
import { formatGiB, renderData, renderDetail } from '../output.ts';
import { resolveServer } from '../resolve.ts';
import { finishAction, waitOption } from './action.ts';

function customImageDetail(image: CustomImage): string {
  return renderDetail([
    ['Image', image.name],
    ['ID', image.id],
    ['Status', image.status],
    ['Region', image.region],
    ['OS', [image.os_family, image.os_version].filter(Boolean).join(' ')],
    ['Min disk', formatGiB(image.min_disk_gib)],
    ['From server', image.source_server_id],
    ['Base image', image.source_image],
    ['Size', image.size_bytes === null ? null : `${image.size_bytes} bytes`],
    ['SHA-256', image.sha256],
    ['Error', image.error],
    ['Created', image.created_at],
  ]);
}

export const createImageCommand: Command = {
  name: 'create-image',
  summary: "make a custom image of the project from a stopped server's disk",
  usage: 'NAME|ID --image-name NAME [--wait]',
  description:
    "The server must be stopped. Its host converts the disk into a standalone image, copied to the region's\n" +
    'other hosts; servers of the same region boot it with `vmcloud server create … --image NAME`.',
  args: [{ name: 'NAME|ID', required: true }],
  options: {
    'image-name': { type: 'string', arg: 'NAME', help: 'the image name (unique in the project)' },
    ...waitOption,
  },
  examples: ['vmcloud server stop web-1 --wait && vmcloud server create-image web-1 --image-name golden --wait'],
  async run(ctx, { positionals, values }) {
    const name = requiredString(values, 'image-name').trim();
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    const { image, action } = await client.call(createServerImage, { params: { id: server.id }, body: { name } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `create-image ${server.name}`,
      done: `image ${image.name} (${image.id}) made from server ${server.name}`,
      accepted: `making image ${image.name} (${image.id}) from server ${server.name}: action ${action.id} ${action.status}`,
    });
  },
};

const show: Command = {
  name: 'show',
  summary: 'show a custom image of the project',
  usage: 'NAME|ID',
  args: [{ name: 'NAME|ID', required: true }],
  examples: ['vmcloud image show golden'],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { image } = await client.call(getCustomImage, { params: { slug: positionals[0].trim() } });
    ctx.out(ctx.output === 'table' ? customImageDetail(image) : renderData(ctx.output, image));
    return 0;
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete a custom image (refused while a server uses it)',
  usage: 'NAME|ID [--wait]',
  args: [{ name: 'NAME|ID', required: true }],
  options: waitOption,
  examples: ['vmcloud image delete golden --wait'],
  async run(ctx, { positionals, values }) {
    const ref = positionals[0].trim();
    const client = await ctx.client();
    const { action } = await client.call(deleteCustomImage, { params: { slug: ref } });
    return finishAction(ctx, client, action, flagOf(values, 'wait'), {
      label: `delete image ${ref}`,
      done: `image ${ref} deleted`,
      accepted: `deleting image ${ref}: action ${action.id} ${action.status}`,
    });
  },
};

export const customImageCommands: Command[] = [show, remove];
