import type { Db } from './connection.ts';

/**
 * A named lease in the database: among several control-plane replicas on one PostgreSQL, only the holder
 * runs a singleton loop (down-host detection, action expiry). Taking it is one conditional upsert.
 */
export async function tryAcquireLease(db: Db, input: { name: string; holder: string; nowMs: number; ttlMs: number }): Promise<boolean> {
  const expires = input.nowMs + input.ttlMs;
  await db
    .insertInto('leases')
    .values({ name: input.name, holder: input.holder, expires_at_ms: expires })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder: input.holder, expires_at_ms: expires })
        .where((eb) => eb.or([eb('leases.holder', '=', input.holder), eb('leases.expires_at_ms', '<', input.nowMs)])),
    )
    .execute();
  const row = await db.selectFrom('leases').select('holder').where('name', '=', input.name).executeTakeFirst();
  return row?.holder === input.holder;
}
