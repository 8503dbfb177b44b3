/**
 * Password hashing with scrypt (node:crypto), stored as a PHC string `$scrypt$ln=17,r=8,p=1$<salt>$<hash>`
 * (base64 without padding) so the cost can be raised later and old hashes still verify (and are rehashed at
 * the next sign-in). Parameters and their reasons: docs/adr/0010-console-auth.md. At most `maxConcurrent`
 * hashes run at once in a process (each takes 128 · 2^ln · r bytes: 128 MiB at the defaults), the rest wait.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptCost {
  /** log2 of N, the CPU/memory cost. */
  ln: number;
  r: number;
  p: number;
}

/** OWASP's minimum for scrypt: N = 2^17, r = 8, p = 1 (128 MiB, about half a second on these machines). */
export const defaultScryptCost: ScryptCost = { ln: 17, r: 8, p: 1 };
const saltBytes = 16;
const keyBytes = 32;
/** Passwords longer than this are refused (scrypt would take them, but a megabyte password is an attack). */
export const maxPasswordLength = 1024;
export const minPasswordLength = 12;

const memoryOf = (cost: ScryptCost) => 128 * 2 ** cost.ln * cost.r;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      keyBytes,
      { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: memoryOf(cost) + 32 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');

export interface ParsedHash {
  cost: ScryptCost;
  salt: Buffer;
  hash: Buffer;
}

export function parsePasswordHash(text: string): ParsedHash | null {
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
  if (!match) return null;
  const cost = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  if (cost.ln < 1 || cost.ln > 22 || cost.r < 1 || cost.p < 1) return null;
  return { cost, salt: Buffer.from(match[4], 'base64'), hash: Buffer.from(match[5], 'base64') };
}

/** A hasher with a bound on concurrent derivations (memory), at one cost. */
export function createPasswordHasher(options: { cost?: ScryptCost; maxConcurrent?: number } = {}) {
  const cost = options.cost ?? defaultScryptCost;
  const maxConcurrent = options.maxConcurrent ?? 2;
  let running = 0;
  const waiting: Array<() => void> = [];
  async function limited<T>(work: () => Promise<T>): Promise<T> {
    if (running >= maxConcurrent) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }
  /** A hash nobody's password matches: verifying against it costs the same as against a real one. */
  let decoy: Promise<string> | null = null;

  return {
    cost,
    async hash(password: string): Promise<string> {
      const salt = randomBytes(saltBytes);
      const key = await limited(() => derive(password, salt, cost));
      return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
    },
    /**
     * Whether `password` matches `stored`; `needsRehash` when it does but was hashed at another cost. A null
     * `stored` (unknown user, no password yet) takes as long and answers false.
     */
    async verify(password: string, stored: string | null): Promise<{ ok: boolean; needsRehash: boolean }> {
      decoy ??= this.hash(randomBytes(16).toString('hex'));
      const parsed = parsePasswordHash(stored ?? (await decoy));
      if (!parsed || password.length > maxPasswordLength) return { ok: false, needsRehash: false };
      const key = await limited(() => derive(password, parsed.salt, parsed.cost));
      const ok = stored !== null && key.length === parsed.hash.length && timingSafeEqual(key, parsed.hash);
      const sameCost = parsed.cost.ln === cost.ln && parsed.cost.r === cost.r && parsed.cost.p === cost.p;
      return { ok, needsRehash: ok && !sameCost };
    },
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

/** Why a new password is refused, or null. Length only (NIST SP 800-63B): no composition rules. */
export function passwordProblem(password: string, email: string): string | null {
  if (password.length < minPasswordLength) return `must be at least ${minPasswordLength} characters`;
  if (password.length > maxPasswordLength) return `must be at most ${maxPasswordLength} characters`;
  if (password.toLowerCase() === email.toLowerCase()) return 'must not be your email address';
  if (/^(.)\1*$/.test(password)) return 'must not be one character repeated';
  return null;
}
