import { randomBytes } from 'node:crypto';

/** A fresh agent key (43 base64url characters, 256 bits): the agent makes one at each start and registers it. */
export function newAgentKey(): string {
  return randomBytes(32).toString('base64url');
}
