import { invalid } from './errors.ts';
import { idPrefixes } from './ids.ts';

/** A keyset list's cursor: the last id of the page, base64url (opaque to clients). */
export const encodeIdCursor = (id: string): string => Buffer.from(id).toString('base64url');

/** The id inside a cursor of a list of `kind` (its id prefix), or a 400 naming the field. */
export function decodeIdCursor(cursor: string, kind: keyof typeof idPrefixes): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!new RegExp(`^${idPrefixes[kind]}_[0-9a-z]{1,60}$`).test(id))
    throw invalid('cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  return id;
}

/** The page size a list query asks for (`?limit=`): 50 when absent, else an integer from 1 to 500. */
export function pageLimitOf(limit: string | number | undefined): number {
  const value = limit === undefined ? 50 : Number(limit);
  if (!Number.isInteger(value) || value < 1 || value > 500)
    throw invalid('limit must be 1 to 500', { fields: [{ field: 'limit', message: 'must be 1 to 500' }] });
  return value;
}

/**
 * One page of a keyset-paginated list whose rows may also be filtered in memory (a label selector): reads
 * batches in id order after `afterId` until `limit` rows pass or the list ends. `nextAfterId` is the last
 * id of the page when another page exists (the caller encodes it as its cursor), else null.
 */
export async function filteredKeysetPage<T extends { id: string }>(options: {
  limit: number;
  afterId: string | null;
  /** At most `batch` rows after `afterId` (null: from the start), in id order. */
  read: (afterId: string | null, batch: number) => Promise<T[]>;
  /** Absent: every row passes, and one read of `limit + 1` rows decides. */
  keep?: (row: T) => boolean;
}): Promise<{ page: T[]; nextAfterId: string | null }> {
  const { limit, read, keep } = options;
  const batch = Math.max(limit + 1, keep ? 200 : 0);
  const page: T[] = [];
  let after = options.afterId;
  for (;;) {
    const rows = await read(after, batch);
    for (const row of rows) {
      if (keep && !keep(row)) continue;
      if (page.length === limit) return { page, nextAfterId: page.length > 0 ? page[page.length - 1].id : null };
      page.push(row);
    }
    if (rows.length < batch) return { page, nextAfterId: null };
    after = rows[rows.length - 1].id;
  }
}
