import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSecretsDir, sweepSecretFiles, writeSecretFile } from './secret-files.ts';

test('secret files: 0600 in a 0700 directory, removed on demand; a sweep removes what a killed process left', async () => {
  const root = await mkdtemp(join(tmpdir(), 'vmc-sec-'));
  const dir = join(root, 'secrets');
  try {
    const file = await writeSecretFile(dir, 'k3y');
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(file.path)).mode & 0o777, 0o600);
    assert.equal(await readFile(file.path, 'utf8'), 'k3y');
    await file.remove();
    assert.deepEqual(await readdir(dir), []);

    await writeSecretFile(dir, 'left-1');
    await writeSecretFile(dir, 'left-2');
    await writeFile(join(dir, 'not-a-key.txt'), 'x');
    assert.equal(sweepSecretFiles(dir), 2);
    assert.deepEqual(await readdir(dir), ['not-a-key.txt']);
    assert.equal(sweepSecretFiles(join(root, 'missing')), 0);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('each state directory has its own secrets directory', () => {
  assert.notEqual(defaultSecretsDir('/var/lib/vmcloud/a'), defaultSecretsDir('/var/lib/vmcloud/b'));
  assert.equal(defaultSecretsDir('/var/lib/vmcloud/a'), defaultSecretsDir('/var/lib/vmcloud/a'));
});
