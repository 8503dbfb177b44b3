/**
 * The only code that names `user_passkeys` and `passkey_challenges` (migration 033,
 * docs/adr/0013-passkeys.md).
 */
import type { Db, Tx } from '../db/index.ts';

export interface PasskeyRecord {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  name: string;
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface ChallengeRecord {
  id: string;
  purpose: 'registration' | 'login';
  userId: string | null;
  challenge: string;
  expiresAt: string;
}

const recordOf = (row: {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number | string;
  transports: string;
  name: string;
  backed_up: number;
  created_at: string;
  last_used_at: string | null;
}): PasskeyRecord => ({
  id: row.id,
  userId: row.user_id,
  credentialId: row.credential_id,
  publicKey: row.public_key,
  counter: Number(row.counter),
  transports: JSON.parse(row.transports) as string[],
  name: row.name,
  backedUp: row.backed_up === 1,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
});

export function createPasskeyStore() {
  return {
    async insertChallenge(q: Db | Tx, challenge: ChallengeRecord): Promise<void> {
      await q
        .insertInto('passkey_challenges')
        .values({
          id: challenge.id,
          purpose: challenge.purpose,
          user_id: challenge.userId,
          challenge: challenge.challenge,
          expires_at: challenge.expiresAt,
        })
        .execute();
    },

    /**
     * Takes a challenge: deletes it and answers it only when this very call deleted it (a second use, even
     * a concurrent one on another replica, finds nothing). Expired challenges are answered too: the caller
     * refuses them.
     */
    async takeChallenge(db: Db, id: string): Promise<ChallengeRecord | null> {
      const row = await db.selectFrom('passkey_challenges').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      const deleted = await db.deleteFrom('passkey_challenges').where('id', '=', id).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1) return null;
      return {
        id: row.id,
        purpose: row.purpose === 'registration' ? 'registration' : 'login',
        userId: row.user_id,
        challenge: row.challenge,
        expiresAt: row.expires_at,
      };
    },

    /** Forgets the challenges that expired before `nowIso` (never answered). */
    async pruneChallenges(db: Db, nowIso: string): Promise<void> {
      await db.deleteFrom('passkey_challenges').where('expires_at', '<=', nowIso).execute();
    },

    async insert(tx: Tx, passkey: PasskeyRecord): Promise<void> {
      await tx
        .insertInto('user_passkeys')
        .values({
          id: passkey.id,
          user_id: passkey.userId,
          credential_id: passkey.credentialId,
          public_key: passkey.publicKey,
          counter: passkey.counter,
          transports: JSON.stringify(passkey.transports),
          name: passkey.name,
          backed_up: passkey.backedUp ? 1 : 0,
          created_at: passkey.createdAt,
          last_used_at: passkey.lastUsedAt,
        })
        .execute();
    },

    async ofUser(q: Db | Tx, userId: string): Promise<PasskeyRecord[]> {
      const rows = await q
        .selectFrom('user_passkeys')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(recordOf);
    },

    async countOfUser(q: Db | Tx, userId: string): Promise<number> {
      const row = await q
        .selectFrom('user_passkeys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async byCredentialId(q: Db | Tx, credentialId: string): Promise<PasskeyRecord | null> {
      const row = await q
        .selectFrom('user_passkeys')
        .selectAll()
        .where('credential_id', '=', credentialId)
        .executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    /**
     * Records a use: the new counter and when. Only when the stored counter is still `expected` (a concurrent
     * sign-in with the same counter value loses): false otherwise.
     */
    async recordUse(tx: Tx, id: string, expected: number, counter: number, nowIso: string): Promise<boolean> {
      const result = await tx
        .updateTable('user_passkeys')
        .set({ counter, last_used_at: nowIso })
        .where('id', '=', id)
        .where('counter', '=', expected)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Deletes a passkey of this user: null when there is none of that id (or it is another user's). */
    async delete(tx: Tx, userId: string, id: string): Promise<PasskeyRecord | null> {
      const row = await tx
        .selectFrom('user_passkeys')
        .selectAll()
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!row) return null;
      await tx.deleteFrom('user_passkeys').where('id', '=', id).execute();
      return recordOf(row);
    },

    /** Deletes every passkey of this user (an operator's reset of their second factor): how many there were. */
    async deleteAllOfUser(tx: Tx, userId: string): Promise<number> {
      const result = await tx.deleteFrom('user_passkeys').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
