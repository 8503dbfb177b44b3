/**
 * The KEK provider `vmcloud serve` is configured with: the key file under the data dir (default), or a
 * PKCS#11 token (`serve --key-store pkcs11 --pkcs11-token LABEL`, PIN from VMCLOUD_PKCS11_PIN or a file).
 */
import type { Clock } from '../core/clock.ts';
import { openFileKekProvider } from './file-kek-provider.ts';
import type { KekProvider } from './kek-provider.ts';
import { openPkcs11KekProvider } from './pkcs11-kek-provider.ts';

export type KeyStoreConfig =
  | {
      kind: 'file';
      /** Directory of kek.json (0700); `vmcloud serve` uses `<data dir>/keys`. */
      directory: string;
    }
  | {
      kind: 'pkcs11';
      tokenLabel: string;
      /** The user PIN, read by the caller from VMCLOUD_PKCS11_PIN or --pkcs11-pin-file, never from a flag. */
      pin: string;
      /** Default SoftHSM2 from Debian. */
      modulePath?: string;
    };

export function openConfiguredKekProvider(config: KeyStoreConfig, clock: Clock): Promise<KekProvider> {
  if (config.kind === 'file') return openFileKekProvider({ directory: config.directory, clock });
  return openPkcs11KekProvider({
    tokenLabel: config.tokenLabel,
    pin: config.pin,
    modulePath: config.modulePath,
    clock,
  });
}
