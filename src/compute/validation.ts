/**
 * What a create request's schema cannot express, checked once in the domain: SSH keys that really are
 * OpenSSH public keys, and label keys and values by the Kubernetes rules. Pure, table-tested.
 */
import { invalid, type FieldProblem } from '../core/index.ts';
import { userDataMaxLength, type CreateServerBody } from '../contract/index.ts';

/** user-data is at most 32 KiB of UTF-8 (the schema bounds its length in characters by the same number). */
export const userDataMaxBytes = userDataMaxLength;
import { validateLabels, type Labels } from './labels.ts';
import { isValidSshPublicKey } from './ssh-keys.ts';

export { isValidSshPublicKey };

export interface ValidatedCreate {
  labels: Labels;
  sshKeys: string[];
}

/** The semantic checks of a create request; every bad field is listed at once. */
export function validateCreateServer(body: CreateServerBody): ValidatedCreate {
  const problems: FieldProblem[] = [];
  let labels: Labels = {};
  try {
    labels = validateLabels(body.labels);
  } catch (error) {
    problems.push(...((error as { fields?: FieldProblem[] }).fields ?? [{ field: 'labels', message: 'invalid' }]));
  }
  const sshKeys: string[] = [];
  (body.ssh_keys ?? []).forEach((key, index) => {
    if (!isValidSshPublicKey(key))
      problems.push({ field: `ssh_keys[${index}]`, message: 'is not an OpenSSH public key (type base64 [comment])' });
    else sshKeys.push(key.trim());
  });
  if (body.user_data && Buffer.byteLength(body.user_data) > userDataMaxBytes)
    problems.push({ field: 'user_data', message: `must be at most ${userDataMaxBytes} bytes (UTF-8)` });
  if (problems.length > 0)
    throw invalid(
      `the request has ${problems.length} invalid field${problems.length > 1 ? 's' : ''}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
      { fields: problems },
    );
  return { labels, sshKeys };
}
