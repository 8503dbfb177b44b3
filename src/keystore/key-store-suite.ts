/**
 * The shared suite every KEK provider passes, on its own and under the sealed-secret store (on each test
 * dialect). A "place" is where keys live (a directory, a token); several provider instances may open it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../core/clock.ts';
import { isVmcError } from '../core/errors.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import type { KekProvider } from './kek-provider.ts';
import { createKeyStore } from './key-store.ts';
import { sealedSecretAad } from './secret-aad.ts';
import { keystoreView } from './tables.ts';

export interface KekPlace {
  open(): Promise<KekProvider>;
  dispose(): Promise<void>;
}

export interface KekSuiteOptions {
  name: string;
  newPlace(): Promise<KekPlace>;
  /** Set when the provider cannot run here: every test is reported skipped with this reason. */
  skip?: string;
}

const isReason = (reason: string) => (error: unknown) => isVmcError(error) && error.reason === reason;

/** Opens providers on a fresh place, runs `body`, then closes them newest first and disposes the place. */
async function withPlace(suite: KekSuiteOptions, body: (open: () => Promise<KekProvider>) => Promise<void>) {
  const place = await suite.newPlace();
  const opened: KekProvider[] = [];
  try {
    await body(async () => {
      const provider = await place.open();
      opened.push(provider);
      return provider;
    });
  } finally {
    for (const provider of opened.reverse()) await provider.close();
    await place.dispose();
  }
}

/** A provider whose encrypt calls `beforeEncrypt` first: lets a test act in the middle of a rotation. */
function withEncryptHook(inner: KekProvider, beforeEncrypt: () => Promise<void>): KekProvider {
  return { ...inner, kind: inner.kind, encrypt: async (...args) => (await beforeEncrypt(), inner.encrypt(...args)) };
}

export function kekProviderSuite(suite: KekSuiteOptions): void {
  const name = (what: string) => `${suite.name} KEK provider: ${what}`;
  const skip = suite.skip;

  test(name('encrypts and decrypts; a wrong AAD, key or altered byte is refused'), { skip }, () =>
    withPlace(suite, async (open) => {
      const provider = await open();
      const keyId = await provider.currentKeyId();
      assert.match(keyId, /^kek_[0-9a-z]{26}$/);
      const aad = Buffer.from('row-1');
      const sealed = await provider.encrypt(keyId, Buffer.from('secret'), aad);
      assert.equal(sealed.length, 12 + 6 + 16);
      assert.equal((await provider.decrypt(keyId, sealed, aad)).toString(), 'secret');
      const again = await provider.encrypt(keyId, Buffer.from('secret'), aad);
      assert.notDeepEqual(again, sealed, 'a fresh IV for every encryption');

      await assert.rejects(provider.decrypt(keyId, sealed, Buffer.from('row-2')), isReason('decrypt_failed'));
      const altered = Buffer.from(sealed);
      altered[14] ^= 1;
      await assert.rejects(provider.decrypt(keyId, altered, aad), isReason('decrypt_failed'));
      await assert.rejects(provider.decrypt(keyId, sealed.subarray(0, 20), aad), isReason('decrypt_failed'));
      const other = await provider.createKey();
      await assert.rejects(provider.decrypt(other, sealed, aad), isReason('decrypt_failed'));
      await assert.rejects(provider.decrypt('kek_00000000000000000000000000', sealed, aad), isReason('kek_missing'));
    }),
  );

  test(name('createKey makes a new current key and older keys keep decrypting'), { skip }, () =>
    withPlace(suite, async (open) => {
      const provider = await open();
      const first = await provider.currentKeyId();
      const sealed = await provider.encrypt(first, Buffer.from('v1'), Buffer.alloc(0));
      const second = await provider.createKey();
      assert.notEqual(second, first);
      assert.equal(await provider.currentKeyId(), second);
      assert.deepEqual(await provider.listKeyIds(), [first, second]);
      assert.equal((await provider.decrypt(first, sealed, Buffer.alloc(0))).toString(), 'v1');
    }),
  );

  test(name('a second instance on the same place sees the same keys, both ways'), { skip }, () =>
    withPlace(suite, async (open) => {
      const a = await open();
      const b = await open();
      const first = await a.currentKeyId();
      assert.equal(await b.currentKeyId(), first);
      const sealedByA = await a.encrypt(first, Buffer.from('from a'), Buffer.from('x'));
      assert.equal((await b.decrypt(first, sealedByA, Buffer.from('x'))).toString(), 'from a');

      const second = await b.createKey();
      assert.equal(await a.currentKeyId(), second, 'a rotation by one instance is seen by the other at once');
      const sealedByA2 = await a.encrypt(second, Buffer.from('under the new key'), Buffer.from('y'));
      assert.equal((await b.decrypt(second, sealedByA2, Buffer.from('y'))).toString(), 'under the new key');
    }),
  );

  test(name('a closed provider refuses to work'), { skip }, () =>
    withPlace(suite, async (open) => {
      const provider = await open();
      const keyId = await provider.currentKeyId();
      await provider.close();
      await assert.rejects(provider.encrypt(keyId, Buffer.from('x'), Buffer.alloc(0)), isReason('kek_provider_closed'));
    }),
  );

  for (const dialect of testDialects()) {
    const storeName = (what: string) => `${suite.name} key store (${dialect}): ${what}`;

    async function withStore(
      body: (ctx: {
        open: () => Promise<KekProvider>;
        db: Awaited<ReturnType<typeof createTestDatabase>>;
      }) => Promise<void>,
    ) {
      const t = await createTestDatabase(dialect);
      try {
        await withPlace(suite, (open) => body({ open, db: t }));
      } finally {
        await t.dispose();
      }
    }

    test(storeName('seal, open, replace, remove'), { skip }, () =>
      withStore(async ({ open, db }) => {
        const provider = await open();
        const store = createKeyStore({ db: db.db, provider, clock: createManualClock() });
        const id = await store.seal('webhook.signing-secret', Buffer.from('s3cret'));
        assert.match(id, /^sec_[0-9a-z]{26}$/);
        const row = await keystoreView(db.db).selectFrom('sealed_secrets').selectAll().executeTakeFirstOrThrow();
        assert.equal(row.purpose, 'webhook.signing-secret');
        assert.equal(row.kek_id, await provider.currentKeyId());
        assert.ok(!Buffer.from(row.ciphertext, 'base64').includes(Buffer.from('s3cret')), 'stored encrypted');

        assert.equal((await store.open(id)).toString(), 's3cret');
        assert.equal((await store.open(id, { purpose: 'webhook.signing-secret' })).toString(), 's3cret');
        await assert.rejects(store.open(id, { purpose: 'pki.ca-key' }), isReason('purpose_mismatch'));

        await store.replace(id, Buffer.from('rotated'));
        assert.equal((await store.open(id)).toString(), 'rotated');

        await store.remove(id);
        await assert.rejects(store.open(id), (e) => isVmcError(e) && e.code === 'not_found');
        await assert.rejects(store.replace(id, Buffer.from('x')), (e) => isVmcError(e) && e.code === 'not_found');
        await store.remove(id);

        await assert.rejects(store.seal('Bad Purpose', Buffer.from('x')), (e) => isVmcError(e) && e.code === 'invalid');
        await assert.rejects(
          store.seal('too.big', Buffer.alloc(64 * 1024 + 1)),
          (e) => isVmcError(e) && e.code === 'invalid',
        );
      }),
    );

    test(storeName('a ciphertext moved to another row or purpose does not decrypt'), { skip }, () =>
      withStore(async ({ open, db }) => {
        const store = createKeyStore({ db: db.db, provider: await open(), clock: createManualClock() });
        const a = await store.seal('disk.key', Buffer.from('key of disk a'));
        const b = await store.seal('disk.key', Buffer.from('key of disk b'));
        const view = keystoreView(db.db);
        const rowA = await view.selectFrom('sealed_secrets').selectAll().where('id', '=', a).executeTakeFirstOrThrow();
        const rowB = await view.selectFrom('sealed_secrets').selectAll().where('id', '=', b).executeTakeFirstOrThrow();
        await view.updateTable('sealed_secrets').set({ ciphertext: rowB.ciphertext }).where('id', '=', a).execute();
        await view.updateTable('sealed_secrets').set({ ciphertext: rowA.ciphertext }).where('id', '=', b).execute();
        await assert.rejects(store.open(a), isReason('decrypt_failed'));
        await assert.rejects(store.open(b), isReason('decrypt_failed'));

        await view
          .updateTable('sealed_secrets')
          .set({ ciphertext: rowA.ciphertext, purpose: 'pki.ca-key' })
          .where('id', '=', a)
          .execute();
        await assert.rejects(store.open(a), isReason('decrypt_failed'));
        await view.updateTable('sealed_secrets').set({ purpose: 'disk.key' }).where('id', '=', a).execute();
        assert.equal((await store.open(a)).toString(), 'key of disk a');
      }),
    );

    test(storeName('rotation re-wraps every row while every row stays readable'), { skip }, () =>
      withStore(async ({ open, db }) => {
        const provider = await open();
        const clock = createManualClock();
        const plain = createKeyStore({ db: db.db, provider, clock });
        const expected = new Map<string, string>();
        for (let i = 0; i < 7; i++) {
          const value = `secret number ${i}`;
          expected.set(await plain.seal('test.secret', Buffer.from(value)), value);
        }
        const oldKey = await provider.currentKeyId();

        let checksDuringRotation = 0;
        let sawMixedKeys = false;
        const rotating = createKeyStore({
          db: db.db,
          clock,
          provider: withEncryptHook(provider, async () => {
            // A reader in the middle of the rotation: every row opens, whichever KEK it is under now.
            const usage = await plain.kekUsage();
            if (usage.length > 1) sawMixedKeys = true;
            for (const [id, value] of expected) assert.equal((await plain.open(id)).toString(), value);
            checksDuringRotation++;
          }),
        });
        const result = await rotating.rotate({ batchSize: 2 });
        assert.equal(result.rewrapped, 7);
        assert.notEqual(result.keyId, oldKey);
        assert.equal(checksDuringRotation, 7);
        assert.ok(sawMixedKeys, 'readers ran while old and new KEKs were both in use');
        assert.deepEqual(await plain.kekUsage(), [{ kekId: result.keyId, secrets: 7 }]);
        for (const [id, value] of expected) assert.equal((await plain.open(id)).toString(), value);
        assert.deepEqual(await plain.rewrap(), { keyId: result.keyId, rewrapped: 0 });
      }),
    );

    test(storeName('rewrap finishes the job for rows sealed under an older key'), { skip }, () =>
      withStore(async ({ open, db }) => {
        const a = await open();
        const b = await open();
        const clock = createManualClock();
        const storeA = createKeyStore({ db: db.db, provider: a, clock });
        const storeB = createKeyStore({ db: db.db, provider: b, clock });
        const early = await storeA.seal('test.secret', Buffer.from('early'));
        const oldKey = await a.currentKeyId();
        const newKey = await b.createKey();
        // A replica that read the old key just before the rotation: it seals one more row under it.
        const late = await storeA.seal('test.secret', Buffer.from('late'));
        await keystoreView(db.db)
          .updateTable('sealed_secrets')
          .set({ kek_id: oldKey })
          .where('id', '=', late)
          .execute();
        await keystoreView(db.db)
          .updateTable('sealed_secrets')
          .set({
            ciphertext: (await a.encrypt(oldKey, Buffer.from('late'), sealedSecretAad(late, 'test.secret'))).toString(
              'base64',
            ),
          })
          .where('id', '=', late)
          .execute();
        assert.deepEqual(await storeB.rewrap({ batchSize: 1 }), { keyId: newKey, rewrapped: 2 });
        assert.equal((await storeB.open(early)).toString(), 'early');
        assert.equal((await storeA.open(late)).toString(), 'late');
        assert.deepEqual(await storeA.kekUsage(), [{ kekId: newKey, secrets: 2 }]);
      }),
    );

    test(storeName("seal joins the caller's transaction"), { skip }, () =>
      withStore(async ({ open, db }) => {
        const store = createKeyStore({ db: db.db, provider: await open(), clock: createManualClock() });
        let rolledBack = '';
        await assert.rejects(
          db.db.transaction().execute(async (tx) => {
            rolledBack = await store.seal('test.secret', Buffer.from('never'), tx);
            throw new Error('caller fails after sealing');
          }),
          /caller fails/,
        );
        await assert.rejects(store.open(rolledBack), (e) => isVmcError(e) && e.code === 'not_found');
        const committed = await db.db.transaction().execute(async (tx) => {
          const id = await store.seal('test.secret', Buffer.from('kept'), tx);
          assert.equal((await store.open(id, { q: tx })).toString(), 'kept');
          return id;
        });
        assert.equal((await store.open(committed)).toString(), 'kept');
      }),
    );
  }
}
