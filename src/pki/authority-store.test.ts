import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '../core/clock.ts';
import { openDatabase, type Db } from '../db/index.ts';
import { createTestDatabase, testDialects, type TestDatabase } from '../db/test-helpers.ts';
import type { Kysely } from 'kysely';
import { createKeyStore, openFileKekProvider, type KekProvider, type KeystoreTables } from '../keystore/index.ts';
import { caKeyPurpose, loadOrCreateCertificateAuthority, type SecretSealer } from './authority-store.ts';
import { createKeyAndCsr } from './csr.ts';
import { issueHostCertificate } from './issue.ts';
import { pkiView } from './tables.ts';

/** A control-plane replica: its own database handle and KEK provider, sharing the database and key dir. */
interface Replica {
  db: Db;
  provider: KekProvider;
  close(): Promise<void>;
}

async function openReplica(t: TestDatabase, keyDirectory: string, ownHandle: boolean): Promise<Replica> {
  const provider = await openFileKekProvider({ directory: keyDirectory, clock: createManualClock() });
  if (!ownHandle) return { db: t.db, provider, close: () => provider.close() };
  const handle = await openDatabase({ url: process.env.TEST_DATABASE_URL ?? '', pgSchema: t.pgSchema });
  return {
    db: handle.db,
    provider,
    close: async () => {
      await provider.close();
      await handle.close();
    },
  };
}

async function sealedSecrets(db: Db) {
  const rows = await (db as unknown as Kysely<KeystoreTables>)
    .selectFrom('sealed_secrets')
    .select(['id', 'purpose'])
    .execute();
  return rows.map((r) => ({ id: r.id, purpose: r.purpose }));
}

/** Holds every caller of seal until `count` have arrived: all of them are then inside their transaction. */
function sealBarrier(count: number) {
  let arrived = 0;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    get arrived() {
      return arrived;
    },
    wrap: (inner: SecretSealer): SecretSealer => ({
      open: inner.open,
      seal: async (...args) => {
        if (++arrived === count) release();
        await released;
        return inner.seal(...args);
      },
    }),
  };
}

const authorityOf = (replica: Replica, wrap: (s: SecretSealer) => SecretSealer = (s) => s) =>
  loadOrCreateCertificateAuthority({
    db: replica.db,
    keyStore: wrap(createKeyStore({ db: replica.db, provider: replica.provider, clock: createManualClock() })),
    clock: createManualClock(Date.now()),
  });

for (const dialect of testDialects()) {
  test(`the CA is created once, its key sealed, and loaded on later starts (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    const keyDirectory = mkdtempSync(join(tmpdir(), 'vmcloud-ca-keys-'));
    const replica = await openReplica(t, keyDirectory, false);
    try {
      const first = await authorityOf(replica);
      const row = await pkiView(t.db).selectFrom('pki_authorities').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.id, 'hosts');
      assert.equal(row.cert_pem, first.certPem);
      assert.doesNotMatch(JSON.stringify(row), /PRIVATE KEY/);
      const sealed = await sealedSecrets(t.db);
      assert.deepEqual(sealed, [{ id: row.sealed_key_id, purpose: caKeyPurpose }]);

      const restarted = await authorityOf(replica);
      assert.equal(restarted.certPem, first.certPem);
      const issued = await issueHostCertificate(restarted, (await createKeyAndCsr({ commonName: 'h' })).csrPem, {
        hostId: 'host_after_restart',
        nowMs: Date.now(),
      });
      assert.ok(new X509Certificate(issued.certPem).verify(new X509Certificate(first.certPem).publicKey));
    } finally {
      await replica.close();
      await t.dispose();
      rmSync(keyDirectory, { recursive: true, force: true });
    }
  });

  test(`replicas racing to create the CA end with one CA and one sealed key (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    const keyDirectory = mkdtempSync(join(tmpdir(), 'vmcloud-ca-keys-'));
    const replicas = await Promise.all(
      Array.from({ length: 3 }, (_, i) => openReplica(t, keyDirectory, dialect === 'postgres' && i > 0)),
    );
    try {
      // On PostgreSQL every creator is held inside its transaction until all six are: they all insert.
      // SQLite runs one transaction at a time, so there the creators only race up to their transaction.
      const barrier = sealBarrier(6);
      const wrap = dialect === 'postgres' ? barrier.wrap : undefined;
      const authorities = await Promise.all(replicas.flatMap((r) => [authorityOf(r, wrap), authorityOf(r, wrap)]));
      if (dialect === 'postgres') assert.equal(barrier.arrived, 6, 'all six tried to create the CA');
      assert.equal(new Set(authorities.map((a) => a.certPem)).size, 1, 'every replica uses the same CA');
      const rows = await pkiView(t.db).selectFrom('pki_authorities').selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0].cert_pem, authorities[0].certPem);
      const sealed = await sealedSecrets(t.db);
      assert.deepEqual(
        sealed,
        [{ id: rows[0].sealed_key_id, purpose: caKeyPurpose }],
        "the losers' sealed keys rolled back with them",
      );
    } finally {
      for (const r of replicas) await r.close();
      await t.dispose();
      rmSync(keyDirectory, { recursive: true, force: true });
    }
  });
}
