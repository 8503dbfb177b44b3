/**
 * `vmcloud serve` as a real process with its host CA key sealed on a PKCS#11 token (SoftHSM2): it prints
 * the agent listener and the CA fingerprint, and a restart loads the same CA through the token. A join
 * token made over the API carries that fingerprint. Skips when SoftHSM2 is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSoftHsmTestDirectory } from '../src/keystore/softhsm-test-token.ts';
import { readCliConfig, startServeProcess, stopProcess } from './serve-process.ts';

const softhsm = createSoftHsmTestDirectory();
const skip = softhsm.skipReason;

test('serve --key-store pkcs11: the CA key sealed on the token, the same CA after a restart', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-pkcs11-serve-'));
  const token = softhsm.createToken();
  const env = {
    ...softhsm.env,
    VMCLOUD_DATA_DIR: join(dir, 'data'),
    VMCLOUD_CONFIG: join(dir, 'cli.json'),
    VMCLOUD_PKCS11_PIN: token.pin,
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: undefined,
  };
  const args = ['--fleet', 'none', '--agent-listen', '127.0.0.1:0', '--key-store', 'pkcs11'];
  const announced =
    /Agent listener \(mutual TLS\) on (https:\/\/127\.0\.0\.1:\d+); hosts' CA SHA-256 fingerprint (\S+)/;
  try {
    const first = await startServeProcess([...args, '--pkcs11-token', token.tokenLabel], env);
    const [, agentUrl, fingerprint] = announced.exec(first.output()) ?? [];
    assert.ok(agentUrl, first.output());
    const operator = readCliConfig(env.VMCLOUD_CONFIG).profiles.operator.token!;
    const created = await fetch(`${first.url}/v1/host-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pkcs11-host' }),
    });
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { ca_sha256: string }).ca_sha256, fingerprint);
    assert.equal(existsSync(join(dir, 'data', 'keys', 'kek.json')), false, 'no key file: the KEK is on the token');
    await stopProcess(first.child);

    const second = await startServeProcess([...args, '--pkcs11-token', token.tokenLabel], env);
    try {
      assert.equal(announced.exec(second.output())?.[2], fingerprint, 'the same CA, its key opened through the token');
    } finally {
      await stopProcess(second.child);
    }

    // Without the PIN, serve refuses to start.
    await assert.rejects(
      startServeProcess([...args, '--pkcs11-token', token.tokenLabel], { ...env, VMCLOUD_PKCS11_PIN: undefined }),
      /needs the PIN in VMCLOUD_PKCS11_PIN/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    softhsm.dispose();
  }
});
