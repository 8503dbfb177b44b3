/**
 * The catalog mix (research/scheduling.md, W1): NANO 30%, STARTER 25%, PERFORMANCE 18%, BUSINESS 12%,
 * ENTERPRISE+ 7%, GPU 8% (T4 3%, RTX 4090 3%, A100 2%), mapped onto the VMCloud products.
 */
import { defaultProducts, type ProductDefinition } from '../../src/catalog/vmcloud-defaults.ts';

export const catalogMix: ReadonlyArray<{ product: ProductDefinition; weight: number }> = [
  ['vps-nano', 30],
  ['vps-starter', 25],
  ['vps-performance', 18],
  ['vps-business', 12],
  ['vps-enterprise-plus', 7],
  ['gpu-t4', 3],
  ['gpu-rtx4090', 3],
  ['gpu-a100', 2],
].map(([code, weight]) => ({
  product: defaultProducts.find((p) => p.code === code) as ProductDefinition,
  weight: weight as number,
}));

export const largestVps = defaultProducts.filter((p) => p.family === 'vps').sort((a, b) => b.vcpus - a.vcpus)[0];
