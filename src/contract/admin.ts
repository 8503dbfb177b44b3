/** Operator administration of the control plane itself: the key store's key-encryption key. */
import { Type, type Static } from 'typebox';
import { defineOperation } from './operation.ts';

export const KeyStoreRotated = Type.Object({
  key_id: Type.String({ description: 'kek_…: the key-encryption key every sealed secret is under now' }),
  rewrapped: Type.Integer({ minimum: 0, description: 'sealed secrets this rotation re-encrypted' }),
});
export type KeyStoreRotated = Static<typeof KeyStoreRotated>;

export const rotateKeyStore = defineOperation({
  operationId: 'rotateKeyStore',
  method: 'POST',
  path: '/v1/admin/key-store/rotate',
  tags: ['operators'],
  summary: 'Rotate the key-encryption key and re-wrap every sealed secret under it (operators)',
  description:
    'Creates a new key-encryption key in the key store (key file or PKCS#11 token) and re-encrypts every sealed secret (the host CA key among them) under it, in batches, without downtime: readers keep opening rows under the key each row names. Older keys stay until no secret uses them.',
  auth: 'operator',
  status: 200,
  response: KeyStoreRotated,
  resource: 'key_store',
});

export const adminOperations = { rotateKeyStore };
