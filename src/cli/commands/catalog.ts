/** `vmcloud region list|set-status`, `vmcloud product list`, `vmcloud image list`: the catalog. */
import {
  listImages,
  listProducts,
  listRegions,
  setRegionStatus,
  type Image,
  type Product,
  type Region,
  type RegionStatus,
} from '../../contract/index.ts';
import { choiceOf, flagOf, stringOf, type Command, type Group } from '../command.ts';
import { formatCents, formatGiB, formatMiB, renderData, renderDetail, renderList, type Column } from '../output.ts';
import { normalizeRegion } from '../resolve.ts';

export const regionColumns: Column<Region>[] = [
  { header: 'code', value: (r) => r.code },
  { header: 'name', value: (r) => r.name },
  { header: 'country', value: (r) => r.country },
  { header: 'peering', value: (r) => (r.peering_gbps ? `${r.peering} ${r.peering_gbps}G` : r.peering) },
  { header: 'status', value: (r) => r.status },
  { header: 'orderable', value: (r) => r.orderable },
  { header: 'opens', value: (r) => r.opens },
];

export const productColumns: Column<Product>[] = [
  { header: 'code', value: (p) => p.code },
  { header: 'name', value: (p) => p.name },
  { header: 'vcpus', value: (p) => p.vcpus, align: 'right' },
  { header: 'memory', value: (p) => formatMiB(p.memory_mib), align: 'right' },
  { header: 'disk', value: (p) => formatGiB(p.disk_gib), align: 'right' },
  { header: 'traffic', value: (p) => `${p.traffic_tib} TiB`, align: 'right' },
  { header: 'gpu', value: (p) => (p.gpu ? `${p.gpu.count}× ${p.gpu.model}` : null) },
  { header: 'sriov', value: (p) => p.sriov },
  { header: 'hourly', value: (p) => formatCents(p.price.hourly_cents, p.price.currency), align: 'right' },
  { header: 'monthly', value: (p) => formatCents(p.price.monthly_cents, p.price.currency), align: 'right' },
  { header: 'regions', value: (p) => p.regions },
];

export const imageColumns: Column<Image>[] = [
  { header: 'slug', value: (i) => i.slug },
  { header: 'name', value: (i) => i.name },
  { header: 'category', value: (i) => i.category },
  { header: 'os', value: (i) => [i.os_family, i.os_version].filter(Boolean).join(' ') },
  { header: 'gpu', value: (i) => (i.requires_gpu ? 'required' : null) },
  { header: 'min-disk', value: (i) => formatGiB(i.min_disk_gib), align: 'right' },
  { header: 'status', value: (i) => i.status },
];

const regionStatuses = ['operational', 'maintenance', 'planned'] as const;

const regionList: Command = {
  name: 'list',
  summary: 'list regions with their status',
  usage: '',
  examples: ['vmcloud region list'],
  async run(ctx) {
    const client = await ctx.client();
    const { regions } = await client.call(listRegions);
    ctx.out(renderList(ctx.output, regionColumns, regions, 'No regions.'));
    return 0;
  },
};

const regionSetStatus: Command = {
  name: 'set-status',
  summary: 'operators: set a region operational, in maintenance (no new servers) or planned',
  usage: 'CODE operational|maintenance|planned',
  args: [
    { name: 'CODE', required: true },
    { name: 'STATUS', required: true },
  ],
  examples: ['vmcloud region set-status lon1 maintenance'],
  async run(ctx, { positionals }) {
    const code = normalizeRegion(positionals[0]);
    const status = choiceOf(positionals[1], regionStatuses, 'the status');
    const client = await ctx.client();
    const { region } = await client.call(setRegionStatus, {
      params: { code },
      body: { status: status as RegionStatus },
    });
    if (ctx.output !== 'table') ctx.out(renderData(ctx.output, region));
    else
      ctx.out(
        renderDetail([
          ['Region', region.code],
          ['Status', region.status],
          ['Orderable', region.orderable],
        ]),
      );
    return 0;
  },
};

export const regionGroup: Group = {
  name: 'region',
  summary: 'regions and their status (set-status: operators)',
  commands: [regionList, regionSetStatus],
};

const productList: Command = {
  name: 'list',
  summary: 'list products with sizes and prices',
  usage: '[--region CODE] [--family vps|gpu]',
  options: {
    region: { type: 'string', arg: 'CODE', help: 'only products sold in this region' },
    family: { type: 'string', arg: 'FAMILY', help: 'vps or gpu' },
  },
  examples: ['vmcloud product list', 'vmcloud product list --region par1 --family gpu'],
  async run(ctx, { values }) {
    const regionText = stringOf(values, 'region');
    const familyText = stringOf(values, 'family');
    const family = familyText === undefined ? undefined : choiceOf(familyText, ['vps', 'gpu'] as const, '--family');
    const client = await ctx.client();
    const { products } = await client.call(listProducts);
    const region = regionText === undefined ? undefined : normalizeRegion(regionText);
    const shown = products.filter(
      (p) => (region === undefined || p.regions.includes(region)) && (family === undefined || p.family === family),
    );
    ctx.out(renderList(ctx.output, productColumns, shown, region ? `No products sold in ${region}.` : 'No products.'));
    return 0;
  },
};

export const productGroup: Group = { name: 'product', summary: 'products: sizes and prices', commands: [productList] };

const imageList: Command = {
  name: 'list',
  summary: 'list images (OS, apps, AI)',
  usage: '[--category os|app|ai|custom] [--gpu]',
  options: {
    category: { type: 'string', arg: 'CATEGORY', help: 'os, app, ai or custom' },
    gpu: { type: 'boolean', help: 'only images that need a GPU product' },
  },
  examples: ['vmcloud image list', 'vmcloud image list --category ai'],
  async run(ctx, { values }) {
    const categoryText = stringOf(values, 'category');
    const category =
      categoryText === undefined
        ? undefined
        : choiceOf(categoryText, ['os', 'app', 'ai', 'custom'] as const, '--category');
    const client = await ctx.client();
    const { images } = await client.call(listImages);
    const shown = images.filter(
      (i) => (category === undefined || i.category === category) && (!flagOf(values, 'gpu') || i.requires_gpu),
    );
    ctx.out(renderList(ctx.output, imageColumns, shown, 'No images.'));
    return 0;
  },
};

export const imageGroup: Group = { name: 'image', summary: 'images to install on servers', commands: [imageList] };
