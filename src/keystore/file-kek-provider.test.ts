import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '../core/clock.ts';
import { isVmcError } from '../core/errors.ts';
import { openFileKekProvider } from './file-kek-provider.ts';
import { kekProviderSuite } from './key-store-suite.ts';
import { assertOwnerOnlyMode, keyFileName, parseKeyFile } from './key-file.ts';

// The suite runs the key store on every dialect of testDialects().
kekProviderSuite({
  name: 'file',
  async newPlace() {
    const root = mkdtempSync(join(tmpdir(), 'vmcloud-kek-'));
    const clock = createManualClock();
    return {
      open: () => openFileKekProvider({ directory: join(root, 'keys'), clock }),
      dispose: async () => rmSync(root, { recursive: true, force: true }),
    };
  },
});

async function withDirectory(body: (dir: string) => Promise<void>) {
  const root = mkdtempSync(join(tmpdir(), 'vmcloud-kek-'));
  try {
    await body(join(root, 'keys'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('file KEK provider: creates the directory 0700 and the key file 0600 on first use', () =>
  withDirectory(async (dir) => {
    const provider = await openFileKekProvider({ directory: dir, clock: createManualClock() });
    await provider.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const path = join(dir, keyFileName);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const content = parseKeyFile(readFileSync(path, 'utf8'), path);
    assert.equal(content.keys.length, 1);
    assert.equal(content.keys[0].key.length, 32);
  }));

test('file KEK provider: refuses a key file that group or others may read, saying how to fix it', () =>
  withDirectory(async (dir) => {
    await (await openFileKekProvider({ directory: dir, clock: createManualClock() })).close();
    const path = join(dir, keyFileName);
    chmodSync(path, 0o640);
    await assert.rejects(
      openFileKekProvider({ directory: dir, clock: createManualClock() }),
      (error) =>
        isVmcError(error) &&
        error.code === 'invalid' &&
        error.reason === 'key_file_mode' &&
        error.message.includes(`chmod 600 ${path}`),
    );
    chmodSync(path, 0o600);
    await (await openFileKekProvider({ directory: dir, clock: createManualClock() })).close();
  }));

test('file KEK provider: every group or other permission bit is refused', async (t) => {
  const cases: Array<{ mode: number; refused: boolean }> = [
    { mode: 0o600, refused: false },
    { mode: 0o400, refused: false },
    { mode: 0o640, refused: true },
    { mode: 0o604, refused: true },
    { mode: 0o620, refused: true },
    { mode: 0o601, refused: true },
    { mode: 0o644, refused: true },
  ];
  for (const c of cases) {
    await t.test(`mode ${c.mode.toString(8)}`, () => {
      if (c.refused) assert.throws(() => assertOwnerOnlyMode(0o100000 | c.mode, '/k'), /chmod 600 \/k/);
      else assertOwnerOnlyMode(0o100000 | c.mode, '/k');
    });
  }
});

test('file KEK provider: a malformed key file is refused, not replaced', () =>
  withDirectory(async (dir) => {
    await (await openFileKekProvider({ directory: dir, clock: createManualClock() })).close();
    const path = join(dir, keyFileName);
    writeFileSync(path, '{"format":"vmcloud-kek-file","version":1,"currentKeyId":"kek_x","keys":[]}', { mode: 0o600 });
    await assert.rejects(
      openFileKekProvider({ directory: dir, clock: createManualClock() }),
      (error) => isVmcError(error) && error.reason === 'key_file_malformed',
    );
    assert.match(readFileSync(path, 'utf8'), /"keys":\[\]/);
  }));

test('file KEK provider: two instances racing on first use end with one key file', () =>
  withDirectory(async (dir) => {
    const providers = await Promise.all(
      Array.from({ length: 4 }, () => openFileKekProvider({ directory: dir, clock: createManualClock() })),
    );
    const ids = new Set(await Promise.all(providers.map((p) => p.currentKeyId())));
    assert.equal(ids.size, 1);
    for (const p of providers) await p.close();
  }));

test('file KEK provider: a held lock makes createKey a conflict', () =>
  withDirectory(async (dir) => {
    const provider = await openFileKekProvider({ directory: dir, clock: createManualClock() });
    try {
      writeFileSync(join(dir, `${keyFileName}.lock`), '1\n');
      await assert.rejects(provider.createKey(), (e) => isVmcError(e) && e.reason === 'key_file_locked');
      rmSync(join(dir, `${keyFileName}.lock`));
      await provider.createKey();
      assert.equal((await provider.listKeyIds()).length, 2);
    } finally {
      await provider.close();
    }
  }));
