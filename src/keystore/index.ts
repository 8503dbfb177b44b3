/** The key store: KEK providers (key file, PKCS#11 token) and sealed secrets encrypted under them. */
export type { KekProvider, KekProviderKind } from './kek-provider.ts';
export { openFileKekProvider, type FileKekProviderOptions } from './file-kek-provider.ts';
export {
  openPkcs11KekProvider,
  defaultPkcs11ModulePath,
  type Pkcs11KekProviderOptions,
} from './pkcs11-kek-provider.ts';
export { openConfiguredKekProvider, type KeyStoreConfig } from './configured-provider.ts';
export {
  createKeyStore,
  maxSecretBytes,
  type KeyStore,
  type KeyStoreDeps,
  type KekUsage,
  type RewrapResult,
} from './key-store.ts';
export type { KeystoreTables, SealedSecretsTable, AnyKysely } from './tables.ts';
