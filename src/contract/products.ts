/** Products: the sizes customers order, with their hourly price and monthly cap. */
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';
import { defineOperation } from './operation.ts';

export const ProductFamily = Type.Union([Type.Literal('vps'), Type.Literal('gpu')]);
export type ProductFamily = Static<typeof ProductFamily>;

export const Product = Type.Object({
  code: Type.String({ description: 'e.g. vps-starter' }),
  name: Type.String({ description: 'e.g. VPS-STARTER' }),
  family: ProductFamily,
  vcpus: Type.Integer(),
  memory_mib: Type.Integer(),
  disk_gib: Type.Integer(),
  traffic_tib: Type.Integer({ description: 'included traffic per month' }),
  gpu: Nullable(Type.Object({ model: Type.String(), count: Type.Integer() })),
  price: Type.Object({
    hourly_cents: Type.Integer(),
    monthly_cents: Type.Integer({ description: 'the monthly cap' }),
    currency: Type.Literal('EUR'),
  }),
  regions: Type.Array(Type.String(), { description: 'regions where it is sold' }),
  sriov: Type.Boolean({
    description: 'servers get an SR-IOV virtual function of the host NIC on their NUMA node (vfio-pci)',
  }),
});
export type Product = Static<typeof Product>;

export const ListProductsQuery = Type.Object(
  { region: Type.Optional(Type.String({ maxLength: 16 })) },
  { additionalProperties: false },
);

export const listProducts = defineOperation({
  operationId: 'listProducts',
  method: 'GET',
  path: '/v1/products',
  tags: ['catalog'],
  summary: 'List products and prices',
  auth: 'any',
  query: ListProductsQuery,
  status: 200,
  response: Type.Object({ products: Type.Array(Product) }),
});

export const productOperations = { listProducts };
