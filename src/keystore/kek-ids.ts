/**
 * KEK ids are `kek_…` time-ordered ids, and a new key's id always sorts after every existing one, even
 * when clocks of two replicas disagree: "the newest key" is simply the greatest id, on any replica.
 */
import { newId } from '../core/ids.ts';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
const timeChars = 10;

/** The milliseconds encoded in a time-ordered id (`<prefix>_<10 time chars><random>`). */
export function idTimeMs(id: string): number {
  const encoded = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 1 + timeChars);
  let value = 0;
  for (const char of encoded) value = value * 32 + alphabet.indexOf(char);
  return value;
}

export function newestKekId(ids: readonly string[]): string | undefined {
  let newest: string | undefined;
  for (const id of ids) if (newest === undefined || id > newest) newest = id;
  return newest;
}

export function nextKekId(existingIds: readonly string[], nowMs: number): string {
  const newest = newestKekId(existingIds);
  const candidate = newId('kek', nowMs);
  if (newest === undefined || candidate > newest) return candidate;
  return newId('kek', idTimeMs(newest) + 1);
}
