/**
 * Whether a product can be ordered with an image in a region, by the catalog's rules: the region must be
 * orderable, the product sold there, the image available, GPU images on GPU products, and the image
 * must fit the product's disk. Pure; the first broken rule is the answer.
 */
import { VmcError } from '../core/index.ts';
import type { Image, Product, Region } from '../contract/index.ts';

export function checkOrder(input: { region: Region; product: Product; image: Image }): void {
  const { region, product, image } = input;
  const code = region.code.toUpperCase();
  if (region.status === 'planned') {
    throw new VmcError(
      'invalid',
      `region ${code} is planned${region.opens ? ` (opens ${region.opens})` : ''} and not orderable yet`,
      {
        reason: 'region_not_orderable',
        fields: [{ field: 'region', message: 'not orderable' }],
      },
    );
  }
  if (region.status === 'maintenance') {
    throw new VmcError(
      'conflict',
      `region ${code} is in maintenance and takes no new servers; existing servers keep running`,
      {
        reason: 'region_in_maintenance',
      },
    );
  }
  if (!product.regions.includes(region.code)) {
    throw new VmcError(
      'invalid',
      `${product.name} is not sold in ${code}; it is sold in ${product.regions.map((r) => r.toUpperCase()).join(', ')}`,
      { reason: 'product_not_in_region', fields: [{ field: 'product', message: `not sold in ${region.code}` }] },
    );
  }
  if (image.requires_gpu && product.family !== 'gpu') {
    throw new VmcError('invalid', `image ${image.slug} needs a GPU product (GPU-T4, GPU-RTX4090, GPU-A100)`, {
      reason: 'image_needs_gpu',
      fields: [{ field: 'image', message: 'needs a GPU product' }],
    });
  }
  if (image.status !== 'available') {
    throw new VmcError('invalid', `image ${image.slug} is ${image.status}`, {
      reason: 'image_not_available',
      fields: [{ field: 'image', message: image.status }],
    });
  }
  if (image.min_disk_gib > product.disk_gib) {
    throw new VmcError(
      'invalid',
      `image ${image.slug} needs ${image.min_disk_gib} GiB of disk; ${product.name} has ${product.disk_gib}`,
      { reason: 'image_too_large', fields: [{ field: 'image', message: 'too large for the product disk' }] },
    );
  }
}
