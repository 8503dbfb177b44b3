import { invalid, type FieldProblem } from '../core/index.ts';
import { validateLabels, type Labels } from './labels.ts';

/** What a create request must look like once parsed. Pure validation, table-tested. */
export interface CreateServerInput {
  name: string;
  product: string;
  region: string;
  image: string;
  labels: Labels;
  sshKeys: string[];
  userData: string | null;
  placementGroup: string | null;
}

export const userDataMaxBytes = 32 * 1024;
export const sshKeysMax = 10;
const hostnamePattern = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const sshKeyTypes = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** An OpenSSH public key line whose base64 blob decodes and names the same key type. */
export function isValidSshPublicKey(line: string): boolean {
  if (line.length > 16_384 || /[\r\n\0]/.test(line)) return false;
  const [type, blob] = line.trim().split(/\s+/, 3);
  if (!type || !blob || !sshKeyTypes.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return false;
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 4 + type.length) return false;
  const typeLength = bytes.readUInt32BE(0);
  return typeLength === type.length && bytes.subarray(4, 4 + typeLength).toString('latin1') === type;
}

export function isValidServerName(name: string): boolean {
  return hostnamePattern.test(name);
}

export function parseCreateServer(body: Record<string, unknown>): CreateServerInput {
  const problems: FieldProblem[] = [];
  const str = (field: string, required: boolean): string | null => {
    const value = body[field];
    if (value === undefined || value === null) {
      if (required) problems.push({ field, message: 'is required' });
      return null;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      problems.push({ field, message: 'must be a non-empty string' });
      return null;
    }
    if (value.length > 255) {
      problems.push({ field, message: 'must be at most 255 characters' });
      return null;
    }
    return value;
  };
  const name = str('name', true);
  if (name !== null && !isValidServerName(name)) problems.push({ field: 'name', message: 'must be a hostname: 1-63 letters, digits and hyphens, not starting or ending with a hyphen' });
  const product = str('product', true);
  const region = str('region', true);
  const image = str('image', true);
  const placementGroup = str('placement_group', false);

  let labels: Labels = {};
  try {
    labels = validateLabels(body.labels);
  } catch (error) {
    problems.push(...((error as { fields?: FieldProblem[] }).fields ?? [{ field: 'labels', message: 'invalid' }]));
  }

  const sshKeys: string[] = [];
  if (body.ssh_keys !== undefined && body.ssh_keys !== null) {
    if (!Array.isArray(body.ssh_keys)) problems.push({ field: 'ssh_keys', message: 'must be an array of OpenSSH public keys' });
    else if (body.ssh_keys.length > sshKeysMax) problems.push({ field: 'ssh_keys', message: `at most ${sshKeysMax} keys` });
    else
      body.ssh_keys.forEach((key, index) => {
        if (typeof key !== 'string' || !isValidSshPublicKey(key)) problems.push({ field: `ssh_keys[${index}]`, message: 'is not an OpenSSH public key (type base64 [comment])' });
        else sshKeys.push(key.trim());
      });
  }

  let userData: string | null = null;
  if (body.user_data !== undefined && body.user_data !== null) {
    if (typeof body.user_data !== 'string') problems.push({ field: 'user_data', message: 'must be a string' });
    else if (Buffer.byteLength(body.user_data) > userDataMaxBytes) problems.push({ field: 'user_data', message: `must be at most ${userDataMaxBytes} bytes` });
    else if (body.user_data.includes('\0')) problems.push({ field: 'user_data', message: 'must not contain NUL bytes' });
    else userData = body.user_data;
  }

  if (problems.length > 0) throw invalid(`the request has ${problems.length} invalid field${problems.length > 1 ? 's' : ''}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, { fields: problems });
  return { name: name!, product: product!, region: region!, image: image!, labels, sshKeys, userData, placementGroup };
}
