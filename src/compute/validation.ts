/**
 * What a create request's schema cannot express, checked once in the domain: SSH keys that really are
 * OpenSSH public keys (or name a saved key of the project), and label keys and values by the Kubernetes
 * rules. Pure, table-tested.
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

/**
 * An entry of `ssh_keys` that names a saved SSH key (its id or name: one word) rather than holding a
 * public key (`type base64 [comment]`: always a space).
 */
export const isSshKeyReference = (entry: string): boolean =>
  typeof entry === 'string' && entry.trim().length > 0 && !/\s/.test(entry.trim());

/** The entries of `ssh_keys` that name saved keys, to resolve before `validateCreateServer`. */
export const sshKeyReferences = (body: Pick<CreateServerBody, 'ssh_keys'>): string[] =>
  (body.ssh_keys ?? []).filter(isSshKeyReference).map((entry) => entry.trim());

/**
 * The semantic checks of a create request; every bad field is listed at once. `savedKeys` maps the
 * references among `ssh_keys` (ids or names of the project's saved keys) to their public keys; a
 * reference it lacks is refused. The same key given twice (inline and saved) is kept once.
 */
export function validateCreateServer(
  body: CreateServerBody,
  savedKeys: ReadonlyMap<string, string> = new Map(),
): ValidatedCreate {
  const problems: FieldProblem[] = [];
  let labels: Labels = {};
  try {
    labels = validateLabels(body.labels);
  } catch (error) {
    problems.push(...((error as { fields?: FieldProblem[] }).fields ?? [{ field: 'labels', message: 'invalid' }]));
  }
  const sshKeys: string[] = [];
  (body.ssh_keys ?? []).forEach((key, index) => {
    if (isSshKeyReference(key)) {
      const saved = savedKeys.get(key.trim());
      if (saved === undefined)
        problems.push({
          field: `ssh_keys[${index}]`,
          message: `names no SSH key of the project (${key.trim()}) and is not an OpenSSH public key (type base64 [comment])`,
        });
      else if (!sshKeys.includes(saved)) sshKeys.push(saved);
    } else if (!isValidSshPublicKey(key))
      problems.push({ field: `ssh_keys[${index}]`, message: 'is not an OpenSSH public key (type base64 [comment])' });
    else if (!sshKeys.includes(key.trim())) sshKeys.push(key.trim());
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
