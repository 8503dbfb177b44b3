import type { Db } from '../db/index.ts';
import { VmcError } from '../core/index.ts';

export interface EventView {
  seq: number;
  id: string;
  at: string;
  type: string;
  project_id: string | null;
  resource: { type: string; id: string };
  data: Record<string, unknown>;
}

/** Reads the event stream in order: `after` is the last `seq` the reader has seen. */
export async function listEvents(db: Db, filter: { projectId: string | null; after: number; limit: number; types?: string[] }): Promise<{ events: EventView[]; last: number }> {
  if (!Number.isInteger(filter.after) || filter.after < 0) throw new VmcError('invalid', 'after must be a sequence number ≥ 0', { fields: [{ field: 'after', message: 'must be an integer ≥ 0' }] });
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > 1000) throw new VmcError('invalid', 'limit must be 1 to 1000', { fields: [{ field: 'limit', message: 'must be 1 to 1000' }] });
  let query = db.selectFrom('events').selectAll().where('seq', '>', filter.after).orderBy('seq').limit(filter.limit);
  if (filter.projectId !== null) query = query.where('project_id', '=', filter.projectId);
  if (filter.types && filter.types.length > 0) query = query.where('type', 'in', filter.types);
  const rows = await query.execute();
  return {
    events: rows.map((r) => ({ seq: Number(r.seq), id: r.id, at: r.at, type: r.type, project_id: r.project_id, resource: { type: r.resource_type, id: r.resource_id }, data: JSON.parse(r.data_json) as Record<string, unknown> })),
    last: rows.length > 0 ? Number(rows[rows.length - 1].seq) : filter.after,
  };
}
