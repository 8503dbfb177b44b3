/** Cursor pagination of list endpoints (`limit`, `cursor` → `next_cursor`). */
import { VmcError } from '../core/errors.ts';

/** Follows `next_cursor` when `all`; refuses a cursor that does not move (a broken server would loop us). */
export async function listPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null | undefined }>,
  all: boolean,
  firstCursor?: string,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const items: T[] = [];
  let cursor = firstCursor;
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    const next = page.next_cursor ?? null;
    if (!all || next === null) return { items, nextCursor: next };
    if (seen.has(next))
      throw new VmcError('internal', `the control plane returned cursor ${next} twice; stopping`, {
        reason: 'cursor_loop',
      });
    seen.add(next);
    cursor = next;
  }
}
