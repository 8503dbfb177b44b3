/** `vmcloud key-store rotate` (operators): a new key-encryption key, every sealed secret re-wrapped under it. */
import { rotateKeyStore } from '../../contract/index.ts';
import type { Command, Group } from '../command.ts';
import { renderData } from '../output.ts';

const rotate: Command = {
  name: 'rotate',
  summary: 'create a new key-encryption key and re-wrap every sealed secret under it (no downtime)',
  usage: '',
  description:
    'Calls POST /v1/admin/key-store/rotate. The key store (the key file of the data dir, or the PKCS#11 token)\n' +
    'gets a new key-encryption key; every sealed secret (the host CA key among them) is re-encrypted under it\n' +
    'while the control plane keeps serving. Older keys stay in the store, unused.',
  examples: ['vmcloud --profile operator key-store rotate'],
  async run(ctx) {
    const client = await ctx.client();
    const result = await client.call(rotateKeyStore);
    ctx.out(
      ctx.output === 'table'
        ? `key-encryption key is now ${result.key_id}; ${result.rewrapped} sealed secret${result.rewrapped === 1 ? '' : 's'} re-wrapped\n`
        : renderData(ctx.output, result),
    );
    return 0;
  },
};

export const keyStoreGroup: Group = {
  name: 'key-store',
  summary: 'operators: the key store that seals the control plane’s secrets',
  commands: [rotate],
};
