/** Turning what a person types into what the API expects: server names, product and region codes, key files. */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { VmcError } from '../core/errors.ts';
import type { ApiClient } from '../client/index.ts';
import { getServer, listProducts, listServers, type Server } from '../contract/index.ts';

/** Server ids carry the `srv_` prefix; anything else is a name. */
export const looksLikeServerId = (text: string) => /^srv_[0-9a-z]+$/.test(text);

/** A server by id, or by name through `GET /v1/servers?name=NAME` (a name must match exactly one server). */
export async function resolveServer(client: ApiClient, nameOrId: string): Promise<Server> {
  if (looksLikeServerId(nameOrId)) {
    return (await client.call(getServer, { params: { id: nameOrId } })).server;
  }
  const { servers } = await client.call(listServers, { query: { name: nameOrId } });
  const matches = servers.filter((server) => server.name === nameOrId);
  if (matches.length === 0) {
    throw new VmcError('not_found', `server ${nameOrId} was not found`, {
      details: { resource: 'server', id: nameOrId },
    });
  }
  if (matches.length > 1) {
    throw new VmcError(
      'conflict',
      `${matches.length} servers are named ${nameOrId} (${matches.map((s) => s.id).join(', ')}): use the id`,
      {
        reason: 'ambiguous_name',
      },
    );
  }
  return matches[0];
}

/** Region codes are lower case on the wire: `FRA1` → `fra1`. */
export const normalizeRegion = (text: string) => text.trim().toLowerCase();

const productCodeShape = /^[a-z0-9][a-z0-9-]*$/;

/**
 * Product codes are lower case (`vps-starter`); people also type the marketing name (`VPS-ENTERPRISE+`).
 * A code-shaped input is sent as is, lower-cased; otherwise the catalog is asked which product has that name.
 */
export async function normalizeProduct(client: ApiClient, text: string): Promise<string> {
  const lower = text.trim().toLowerCase();
  if (productCodeShape.test(lower)) return lower;
  const { products } = await client.call(listProducts);
  const match = products.find((p) => p.code.toLowerCase() === lower || p.name.toLowerCase() === lower);
  if (!match) {
    throw new VmcError('invalid', `unknown product "${text}"; see \`vmcloud product list\``, {
      fields: [{ field: 'product', message: `known: ${products.map((p) => p.code).join(', ')}` }],
    });
  }
  return match.code;
}

const inlineKey = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-|sk-(ssh-ed25519|ecdsa-sha2-))/;

/** A saved SSH key's id or name (`vmcloud ssh-key list`): one word, no path separator. */
const savedKeyRef = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * `--ssh-key` values: an inline public key, a file of one or more keys (authorized_keys format; blank
 * lines and comments skipped), or the id or name of a saved SSH key of the project (a word that names no
 * file and does not end in `.pub`: the API resolves it). A private key file is refused rather than uploaded.
 */
export async function readSshKeys(values: string[], cwd: string): Promise<string[]> {
  const keys: string[] = [];
  for (const value of values) {
    const trimmed = value.trim();
    if (inlineKey.test(trimmed)) {
      keys.push(trimmed);
      continue;
    }
    const path = expandPath(trimmed, cwd);
    if (savedKeyRef.test(trimmed) && !trimmed.endsWith('.pub') && !(await exists(path))) {
      keys.push(trimmed);
      continue;
    }
    const text = await readText(path, '--ssh-key');
    if (text.includes('PRIVATE KEY')) {
      throw new VmcError('invalid', `--ssh-key ${value} is a private key; pass the public key (${value}.pub)`, {
        fields: [{ field: 'ssh_keys', message: 'private key refused' }],
      });
    }
    const lines = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (lines.length === 0)
      throw new VmcError('invalid', `--ssh-key ${value}: the file holds no key`, {
        fields: [{ field: 'ssh_keys', message: 'empty file' }],
      });
    keys.push(...lines);
  }
  return keys;
}

/** `--public-key-file`: the text of a public key file (`~` expanded); a private key is refused unsent. */
export async function readPublicKeyFile(value: string, cwd: string): Promise<string> {
  const text = await readText(expandPath(value.trim(), cwd), '--public-key-file');
  if (text.includes('PRIVATE KEY'))
    throw new VmcError('invalid', `--public-key-file ${value} is a private key; pass the public key (${value}.pub)`, {
      fields: [{ field: 'public_key', message: 'private key refused' }],
    });
  return text.trim();
}

export async function readUserData(value: string, cwd: string): Promise<string> {
  return readText(expandPath(value, cwd), '--user-data');
}

function expandPath(path: string, cwd: string): string {
  if (path === '~' || path.startsWith('~/')) return resolvePath(homedir(), path.slice(2));
  return resolvePath(cwd, path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new VmcError(
      'invalid',
      `${flag}: cannot read ${path}${code === 'ENOENT' ? ' (no such file)' : `: ${(error as Error).message}`}`,
      {
        fields: [{ field: flag.replace(/^--/, '').replace(/-/g, '_'), message: 'cannot read file' }],
      },
    );
  }
}
