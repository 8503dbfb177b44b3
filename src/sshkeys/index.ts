/**
 * The SSH keys domain: a project's saved OpenSSH public keys (table `ssh_keys`), their parsing and
 * fingerprints, and the lookup servers use to take them by id or name.
 */
export type { SshKeysTable } from './tables.ts';
export { createSshKeyService, sshKeyView, type SshKeyService, type SshKeysDeps } from './service.ts';
export { parsePublicKey, sshFingerprint, type ParsedPublicKey, type PublicKeyResult } from './public-key.ts';
