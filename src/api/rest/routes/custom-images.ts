import type { Route } from '../route.ts';
import type { CustomImageService } from '../../../custom-images/index.ts';
import { createServerImage, deleteCustomImage, getCustomImage } from '../../../contract/index.ts';

export function registerCustomImageRoutes(route: Route, deps: { customImages: CustomImageService }) {
  const { customImages } = deps;
  route(createServerImage, ({ principal, params, body }) => customImages.createImage(principal, params.id, body));
  route(getCustomImage, async ({ principal, params }) => ({
    image: await customImages.getImage(principal, params.slug),
  }));
  route(deleteCustomImage, ({ principal, params }) => customImages.deleteImage(principal, params.slug));
}
