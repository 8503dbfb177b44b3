/** `vmcloud serve` flags of host trust: the agent listener's address and the key store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveConfigFromArgs } from './serve.ts';

test('serve --agent-listen and --key-store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vmc-serve-flags-'));
  const pinFile = join(dir, 'pin');
  writeFileSync(pinFile, '123456\n');
  const dataDir = join(dir, 'data');
  const cases: Array<{
    name: string;
    argv: string[];
    env?: NodeJS.ProcessEnv;
    expected?: Partial<ReturnType<typeof serveConfigFromArgs>>;
    error?: RegExp;
  }> = [
    {
      name: 'defaults: loopback 8443, the key file in the data dir',
      argv: ['--data-dir', dataDir],
      expected: {
        agentListen: { host: '127.0.0.1', port: 8443 },
        keyStore: { kind: 'file', directory: join(dataDir, 'keys') },
      },
    },
    {
      name: 'an address and port 0',
      argv: ['--data-dir', dataDir, '--agent-listen', '0.0.0.0:0'],
      expected: { agentListen: { host: '0.0.0.0', port: 0 } },
    },
    {
      name: 'IPv6',
      argv: ['--data-dir', dataDir, '--agent-listen', '[::1]:9443'],
      expected: { agentListen: { host: '::1', port: 9443 } },
    },
    {
      name: 'from the environment',
      argv: ['--data-dir', dataDir],
      env: { VMCLOUD_AGENT_LISTEN: '10.0.0.1:8443' },
      expected: { agentListen: { host: '10.0.0.1', port: 8443 } },
    },
    { name: 'no port', argv: ['--agent-listen', '127.0.0.1'], error: /--agent-listen must be HOST:PORT/ },
    { name: 'port too large', argv: ['--agent-listen', '127.0.0.1:70000'], error: /--agent-listen must be HOST:PORT/ },
    {
      name: 'pkcs11 with the PIN from the environment',
      argv: ['--data-dir', dataDir, '--key-store', 'pkcs11', '--pkcs11-token', 'vmcloud'],
      env: { VMCLOUD_PKCS11_PIN: '4321' },
      expected: { keyStore: { kind: 'pkcs11', tokenLabel: 'vmcloud', pin: '4321', modulePath: undefined } },
    },
    {
      name: 'pkcs11 with the PIN from a file and a module',
      argv: [
        '--data-dir',
        dataDir,
        '--key-store',
        'pkcs11',
        '--pkcs11-token',
        'hsm',
        '--pkcs11-pin-file',
        pinFile,
        '--pkcs11-module',
        '/opt/hsm.so',
      ],
      expected: { keyStore: { kind: 'pkcs11', tokenLabel: 'hsm', pin: '123456', modulePath: '/opt/hsm.so' } },
    },
    { name: 'pkcs11 without a token', argv: ['--key-store', 'pkcs11'], error: /needs --pkcs11-token/ },
    {
      name: 'pkcs11 without a PIN',
      argv: ['--key-store', 'pkcs11', '--pkcs11-token', 'x'],
      error: /needs the PIN in VMCLOUD_PKCS11_PIN/,
    },
    { name: 'no PIN flag', argv: ['--pkcs11-pin', '1234'], error: /Unknown option '--pkcs11-pin'/ },
    { name: 'unknown key store', argv: ['--key-store', 'vault'], error: /--key-store must be file or pkcs11/ },
  ];
  try {
    for (const c of cases) {
      await t.test(c.name, () => {
        if (c.error) {
          assert.throws(() => serveConfigFromArgs(c.argv, c.env ?? {}), c.error);
          return;
        }
        const config = serveConfigFromArgs(c.argv, c.env ?? {});
        for (const [key, value] of Object.entries(c.expected ?? {}))
          assert.deepEqual(config[key as keyof typeof config], value, key);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
