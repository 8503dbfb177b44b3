/**
 * CLI profiles: which control plane (URL) and which API token. One JSON file, mode 0600:
 *   { "current": "default", "profiles": { "default": { "url": "http://localhost:8080", "token": "vmc_…" } } }
 * Location: $VMCLOUD_CONFIG, else $XDG_CONFIG_HOME/vmcloud/config.json, else ~/.config/vmcloud/config.json.
 * Precedence when resolving: flags (--url/--token) > environment (VMCLOUD_URL/VMCLOUD_TOKEN) > profile.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VmcError } from '../core/errors.ts';

export type Env = Record<string, string | undefined>;

export const defaultUrl = 'http://localhost:8080';
export const defaultProfileName = 'default';

export interface StoredProfile {
  url: string;
  token?: string;
  /** PEM file of the CA (or self-signed certificate) that signs the control plane's HTTPS certificate. */
  caCert?: string;
}

export interface ConfigFile {
  current: string | null;
  profiles: Record<string, StoredProfile>;
}

export interface ResolvedProfile {
  /** CA certificate file trusted for HTTPS (flag --ca-cert, env VMCLOUD_CA_CERT, or the profile). */
  caCert?: string;
  /** Profile name (even when nothing is stored under it yet). */
  name: string;
  url: string;
  token: string | undefined;
  /** Whether the profile exists in the config file. */
  stored: boolean;
  configPath: string;
  /** Where url and token came from, for `config show`. */
  sources: { url: 'flag' | 'env' | 'profile' | 'default'; token: 'flag' | 'env' | 'profile' | 'none' };
}

export function configPath(env: Env): string {
  if (env.VMCLOUD_CONFIG) return env.VMCLOUD_CONFIG;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'vmcloud', 'config.json');
  return join(env.HOME || homedir(), '.config', 'vmcloud', 'config.json');
}

const emptyConfig = (): ConfigFile => ({ current: null, profiles: {} });

/** Reads the config file; a missing file is an empty config, a malformed one an `invalid` error. */
export async function readConfig(env: Env): Promise<ConfigFile> {
  const path = configPath(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
    throw new VmcError('unavailable', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new VmcError('invalid', `${path} is not valid JSON: ${(error as Error).message}`, { reason: 'bad_config' });
  }
  return normalizeConfig(parsed, path);
}

function normalizeConfig(parsed: unknown, path: string): ConfigFile {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new VmcError('invalid', `${path} must hold a JSON object`, { reason: 'bad_config' });
  }
  const raw = parsed as { current?: unknown; profiles?: unknown };
  const profiles: Record<string, StoredProfile> = {};
  if (raw.profiles !== undefined) {
    if (raw.profiles === null || typeof raw.profiles !== 'object' || Array.isArray(raw.profiles)) {
      throw new VmcError('invalid', `${path}: "profiles" must be an object`, { reason: 'bad_config' });
    }
    for (const [name, value] of Object.entries(raw.profiles as Record<string, unknown>)) {
      const profile = value as { url?: unknown; token?: unknown } | null;
      if (!profile || typeof profile !== 'object' || typeof profile.url !== 'string') {
        throw new VmcError('invalid', `${path}: profile "${name}" needs a "url" string`, { reason: 'bad_config' });
      }
      const caCert = (value as { caCert?: unknown }).caCert;
      profiles[name] = {
        url: profile.url,
        ...(typeof profile.token === 'string' ? { token: profile.token } : {}),
        ...(typeof caCert === 'string' ? { caCert } : {}),
      };
    }
  }
  return { current: typeof raw.current === 'string' ? raw.current : null, profiles };
}

/** Writes atomically (temp file + rename) with mode 0600 in a 0700 directory: the file holds secrets. */
export async function writeConfig(config: ConfigFile, env: Env): Promise<string> {
  const path = configPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
  return path;
}

export interface SaveProfileInput {
  name: string;
  url: string;
  token?: string;
  caCert?: string;
  /** Make it the current profile. The first profile saved always becomes current. */
  makeCurrent?: boolean;
}

/** Adds or replaces one profile, keeps the others; returns the config file path. */
export async function saveProfile(input: SaveProfileInput, env: Env = process.env): Promise<string> {
  if (!input.name.trim())
    throw new VmcError('invalid', 'a profile needs a name', {
      fields: [{ field: 'name', message: 'must not be empty' }],
    });
  const config = await readConfig(env);
  config.profiles[input.name] = {
    url: stripTrailingSlash(input.url),
    ...(input.token ? { token: input.token } : {}),
    ...(input.caCert ? { caCert: input.caCert } : {}),
  };
  if (input.makeCurrent || !config.current || !config.profiles[config.current]) config.current = input.name;
  return writeConfig(config, env);
}

/** Makes `name` the current profile; `not_found` when there is no such profile. */
export async function useProfile(name: string, env: Env): Promise<string> {
  const config = await readConfig(env);
  if (!config.profiles[name]) throw unknownProfile(name, config, configPath(env));
  config.current = name;
  return writeConfig(config, env);
}

export interface ProfileOverrides {
  url?: string;
  token?: string;
  caCert?: string;
}

/**
 * The profile to talk to: `name` (from --profile), else $VMCLOUD_PROFILE, else the file's current profile,
 * else `default`. A profile named explicitly must exist; env and flags override its url and token.
 */
export async function loadProfile(
  name: string | undefined,
  env: Env = process.env,
  flags: ProfileOverrides = {},
): Promise<ResolvedProfile> {
  const path = configPath(env);
  const config = await readConfig(env);
  const explicit = name ?? env.VMCLOUD_PROFILE;
  const chosen = explicit ?? config.current ?? defaultProfileName;
  const stored = config.profiles[chosen];
  if (explicit !== undefined && !stored) throw unknownProfile(explicit, config, path);

  const [url, urlSource] = flags.url
    ? [flags.url, 'flag' as const]
    : env.VMCLOUD_URL
      ? [env.VMCLOUD_URL, 'env' as const]
      : stored
        ? [stored.url, 'profile' as const]
        : [defaultUrl, 'default' as const];
  const [token, tokenSource] = flags.token
    ? [flags.token, 'flag' as const]
    : env.VMCLOUD_TOKEN
      ? [env.VMCLOUD_TOKEN, 'env' as const]
      : stored?.token
        ? [stored.token, 'profile' as const]
        : [undefined, 'none' as const];
  const caCert = flags.caCert ?? env.VMCLOUD_CA_CERT ?? stored?.caCert;
  return {
    name: chosen,
    url: stripTrailingSlash(url),
    token,
    caCert,
    stored: stored !== undefined,
    configPath: path,
    sources: { url: urlSource, token: tokenSource },
  };
}

function unknownProfile(name: string, config: ConfigFile, path: string): VmcError {
  const known = Object.keys(config.profiles);
  const hint =
    known.length > 0 ? `known profiles: ${known.join(', ')}` : `no profiles in ${path} yet: run \`vmcloud login\``;
  return new VmcError('not_found', `profile "${name}" was not found (${hint})`, { reason: 'profile_not_found' });
}

const stripTrailingSlash = (url: string) => url.replace(/\/+$/, '');
