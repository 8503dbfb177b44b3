import { Type } from 'typebox';
import type { Api } from '../server.ts';
import type { CatalogService } from '../../../catalog/index.ts';
import { requireOperator } from '../../../identity/index.ts';
import { principalOf } from '../context.ts';
import { Region, Product, Image, errorResponses } from '../schemas.ts';

export function registerCatalogRoutes(app: Api, deps: { catalog: CatalogService }) {
  app.get('/v1/regions', { schema: { tags: ['catalog'], summary: 'List regions', response: { 200: Type.Object({ regions: Type.Array(Region) }), ...errorResponses } } }, async () => ({
    regions: await deps.catalog.listRegions(),
  }));

  app.get('/v1/regions/:code', { schema: { tags: ['catalog'], summary: 'Show a region', params: Type.Object({ code: Type.String({ maxLength: 16 }) }), response: { 200: Type.Object({ region: Region }), ...errorResponses } } }, async (request) => ({
    region: await deps.catalog.getRegion(request.params.code),
  }));

  app.patch(
    '/v1/regions/:code',
    {
      schema: {
        tags: ['operators'],
        summary: 'Change a region status (operators)',
        params: Type.Object({ code: Type.String({ maxLength: 16 }) }),
        body: Type.Object({ status: Type.String() }, { additionalProperties: false }),
        response: { 200: Type.Object({ region: Region }), ...errorResponses },
      },
    },
    async (request) => {
      requireOperator(principalOf(request.principal));
      request.auditResource = { type: 'region', id: request.params.code };
      return { region: await deps.catalog.setRegionStatus(request.params.code, request.body.status) };
    },
  );

  app.get(
    '/v1/products',
    { schema: { tags: ['catalog'], summary: 'List products and prices', querystring: Type.Object({ region: Type.Optional(Type.String({ maxLength: 16 })) }, { additionalProperties: false }), response: { 200: Type.Object({ products: Type.Array(Product) }), ...errorResponses } } },
    async (request) => ({ products: await deps.catalog.listProducts({ region: request.query.region }) }),
  );

  app.get('/v1/images', { schema: { tags: ['catalog'], summary: 'List images', response: { 200: Type.Object({ images: Type.Array(Image) }), ...errorResponses } } }, async () => ({
    images: await deps.catalog.listImages(),
  }));
}
