import type { Route } from '../route.ts';
import type { CatalogService } from '../../../catalog/index.ts';
import type { Principal } from '../../../identity/index.ts';
import type { Image } from '../../../contract/index.ts';
import { getRegion, listImages, listProducts, listRegions, setRegionStatus } from '../../../contract/index.ts';

export function registerCatalogRoutes(
  route: Route,
  deps: {
    catalog: CatalogService;
    /** The images a principal sees: the catalog's, and its project's custom images (src/custom-images). */
    listImages?: (principal: Principal) => Promise<Image[]>;
  },
) {
  const { catalog } = deps;
  route(listRegions, async () => ({ regions: await catalog.listRegions() }));
  route(getRegion, async ({ params }) => ({ region: await catalog.getRegion(params.code) }));
  route(setRegionStatus, async ({ params, body }) => ({
    region: await catalog.setRegionStatus(params.code, body.status),
  }));
  route(listProducts, async ({ query }) => ({ products: await catalog.listProducts({ region: query.region }) }));
  route(listImages, async ({ principal }) => ({
    images: deps.listImages ? await deps.listImages(principal) : await catalog.listImages(),
  }));
}
