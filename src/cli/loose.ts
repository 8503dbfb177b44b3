/**
 * Reading operator views whose shapes may grow (hosts, capacity, audit entries, placement violations):
 * the first of several candidate paths that holds a value, so a renamed or nested field still shows.
 */
export type Loose = Record<string, unknown>;

export function pick(value: unknown, ...paths: string[]): unknown {
  for (const path of paths) {
    let current: unknown = value;
    for (const key of path.split('.')) {
      if (current === null || typeof current !== 'object') {
        current = undefined;
        break;
      }
      current = (current as Loose)[key];
    }
    if (current !== undefined && current !== null) return current;
  }
  return undefined;
}

export const pickNumber = (value: unknown, ...paths: string[]): number | undefined => {
  const found = pick(value, ...paths);
  return typeof found === 'number' ? found : undefined;
};

export const pickArray = (value: unknown, ...paths: string[]): unknown[] => {
  const found = pick(value, ...paths);
  return Array.isArray(found) ? found : [];
};

/** The first array among a response's members, e.g. `{ capacity: [...] }` or `{ entries: [...] }`. */
export function firstArray(value: unknown, ...keys: string[]): Loose[] {
  if (Array.isArray(value)) return value as Loose[];
  const named = pickArray(value, ...keys);
  if (named.length > 0 || keys.some((key) => Array.isArray(pick(value, key)))) return named as Loose[];
  if (value && typeof value === 'object') {
    for (const member of Object.values(value as Loose)) if (Array.isArray(member)) return member as Loose[];
  }
  return [];
}
