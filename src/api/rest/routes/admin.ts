/** Operator administration: rotation of the key store's key-encryption key. */
import type { Route } from '../route.ts';
import { rotateKeyStore } from '../../../contract/index.ts';

export interface AdminRouteDeps {
  /** Creates a new KEK and re-wraps every sealed secret under it (src/keystore KeyStore.rotate). */
  rotateKeyStore: () => Promise<{ keyId: string; rewrapped: number }>;
}

export function registerAdminRoutes(route: Route, deps: AdminRouteDeps) {
  route(rotateKeyStore, async () => {
    const { keyId, rewrapped } = await deps.rotateKeyStore();
    return { key_id: keyId, rewrapped };
  });
}
