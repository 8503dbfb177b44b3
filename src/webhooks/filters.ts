/** Event type filters of an endpoint: `*` (every type), `server.*` (a family), `backup.succeeded` (one type). */
export function matchesFilters(filters: readonly string[], type: string): boolean {
  for (const filter of filters) {
    if (filter === '*' || filter === type) return true;
    if (filter.endsWith('.*') && type.startsWith(filter.slice(0, -1))) return true;
  }
  return false;
}

/** The filters as stored: deduplicated, sorted, `*` alone when it is there. */
export function normalizeFilters(filters: readonly string[] | undefined): string[] {
  if (!filters || filters.length === 0 || filters.includes('*')) return ['*'];
  return [...new Set(filters)].sort();
}
