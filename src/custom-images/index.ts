/**
 * The custom-images domain: images a project makes from a stopped server's disk (table `custom_images`),
 * listed to that project only, booted by its servers, copied to the hosts of their region by the worker.
 */
export type { CustomImagesTable } from './tables.ts';
export {
  createCustomImageService,
  type CustomImageService,
  type CustomImagesDeps,
  type CustomImageServers,
} from './service.ts';
export { createCustomImageWorker, type CustomImageWorker, type CustomImageHostClient } from './worker.ts';
