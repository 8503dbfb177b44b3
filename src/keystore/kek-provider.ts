/**
 * The contract of a key-encryption-key (KEK) provider: versioned AES-256 keys, each named by a key id
 * (`kek_…`, time-ordered), that encrypt small secrets with AES-256-GCM bound to caller-chosen AAD.
 * Every implementation passes the shared suite in kek-provider-suite.ts.
 */

export type KekProviderKind = 'file' | 'pkcs11';

export interface KekProvider {
  readonly kind: KekProviderKind;
  /**
   * The key new ciphertexts use. Read from the shared state (key file, token) on every call, so a
   * rotation made by another process or replica is seen at once.
   */
  currentKeyId(): Promise<string>;
  /** Every key version the provider holds, oldest first. */
  listKeyIds(): Promise<string[]>;
  /** AES-256-GCM under `keyId`: returns iv ‖ ciphertext ‖ tag. Unknown key → VmcError unavailable. */
  encrypt(keyId: string, plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  /** The inverse of encrypt; a wrong key, AAD or a tampered ciphertext → VmcError internal (decrypt_failed). */
  decrypt(keyId: string, ciphertext: Buffer, aad: Buffer): Promise<Buffer>;
  /** Creates a new key version and makes it current; returns its id. Older versions stay usable. */
  createKey(): Promise<string>;
  /** Releases files, sessions or the PKCS#11 library; later calls fail with VmcError unavailable. */
  close(): Promise<void>;
}
