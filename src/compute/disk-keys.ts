/**
 * Disk keys: one random 256-bit key per server disk, generated when the server is created and kept only
 * wrapped, as a sealed secret of the key store (under its file KEK or PKCS#11 token). The control plane
 * unwraps it when it hands a host its desired state over the agent link's mutual TLS; the host keeps it in
 * memory. Deleting the server deletes the key: the disk's bytes left anywhere are unreadable from then on.
 */
import { randomBytes } from 'node:crypto';
import type { Tx } from '../db/index.ts';
import type { KeyStore } from '../keystore/index.ts';

export const diskKeyPurpose = 'compute.disk-key';

export interface DiskKeyVault {
  /** A new key, sealed in `tx`; returns the sealed secret's id. */
  create(tx: Tx): Promise<string>;
  /** The key as QEMU takes it: base64 text of the 32 random bytes (a LUKS passphrase must be UTF-8). */
  open(secretId: string): Promise<string>;
  /** Forgets the key (crypto-shredding the disk). */
  destroy(tx: Tx, secretId: string): Promise<void>;
}

export function createDiskKeyVault(keyStore: KeyStore): DiskKeyVault {
  return {
    create: (tx) => keyStore.seal(diskKeyPurpose, Buffer.from(randomBytes(32).toString('base64')), tx),
    open: async (secretId) => (await keyStore.open(secretId, { purpose: diskKeyPurpose })).toString('utf8'),
    destroy: (tx, secretId) => keyStore.remove(secretId, tx),
  };
}
