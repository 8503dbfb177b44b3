/**
 * Finding 13 of the trust-boundaries issue, in process (test/tls-api.test.ts checks it under `serve`, whose
 * umask is 077): the control plane closes a data dir that existed with 0755 to 0700, and the SQLite
 * database and its WAL files are 0600 although this process's umask would leave them readable by all.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

const modeOf = (path: string) => statSync(path).mode & 0o777;

for (const dialect of testDialects()) {
  describe(`secrets at rest (${dialect})`, () => {
    const parent = mkdtempSync(join(tmpdir(), 'vmcloud-at-rest-'));
    const dataDir = join(parent, 'data');
    let t: TestControlPlane;
    let umask: number;

    before(async () => {
      umask = process.umask(0o022); // the usual umask: files 0644, directories 0755
      mkdirSync(dataDir, { mode: 0o755 });
      assert.equal(modeOf(dataDir), 0o755);
      t = await startTestControlPlane(dialect, {
        dataDir,
        databaseUrl: dialect === 'postgres' ? process.env.TEST_DATABASE_URL! : join(dataDir, 'vmcloud.sqlite'),
        pgSchema: dialect === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined,
      });
      // Something written, so that SQLite's WAL exists.
      assert.equal((await t.call('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201);
    });
    after(async () => {
      process.umask(umask);
      await t?.dispose();
      rmSync(parent, { recursive: true, force: true });
    });

    test('the data dir is 0700 after a start, though it existed with 0755', () => {
      assert.equal(modeOf(dataDir), 0o700);
    });

    if (dialect === 'sqlite') {
      test('the SQLite database and its WAL files are 0600', () => {
        const files = readdirSync(dataDir).filter((name) => name.startsWith('vmcloud.sqlite'));
        assert.deepEqual(files.sort(), ['vmcloud.sqlite', 'vmcloud.sqlite-shm', 'vmcloud.sqlite-wal']);
        for (const name of files) assert.equal(modeOf(join(dataDir, name)), 0o600, name);
      });
    }
  });
}
