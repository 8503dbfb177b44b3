/**
 * Test support: SoftHSM2 tokens in a temporary directory. Points SOFTHSM2_CONF of this test process at a
 * private softhsm2.conf and initialises fresh tokens with softhsm2-util. Create a token only while no
 * provider is open: the library reads its token directory when it is initialised.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPkcs11ModulePath } from './pkcs11-kek-provider.ts';

export interface SoftHsmTestToken {
  tokenLabel: string;
  pin: string;
}

export interface SoftHsmTestDirectory {
  /** Why PKCS#11 tests cannot run here, or undefined when they can. */
  skipReason: string | undefined;
  createToken(): SoftHsmTestToken;
  /** The environment a child process needs to see the same tokens. */
  env: NodeJS.ProcessEnv;
  dispose(): void;
}

export function softHsmSkipReason(): string | undefined {
  const probe = spawnSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
  if (probe.error) return 'softhsm2-util is not installed (apt-get install softhsm2): PKCS#11 tests skipped';
  if (!existsSync(defaultPkcs11ModulePath)) return `${defaultPkcs11ModulePath} is missing: PKCS#11 tests skipped`;
  return undefined;
}

export function createSoftHsmTestDirectory(): SoftHsmTestDirectory {
  const skipReason = softHsmSkipReason();
  const root = mkdtempSync(join(tmpdir(), 'vmcloud-softhsm-'));
  const tokenDir = join(root, 'tokens');
  mkdirSync(tokenDir);
  const confPath = join(root, 'softhsm2.conf');
  writeFileSync(confPath, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = confPath;
  const env = { ...process.env, SOFTHSM2_CONF: confPath };
  return {
    skipReason,
    env,
    createToken() {
      const token = { tokenLabel: `test-${randomBytes(4).toString('hex')}`, pin: randomBytes(6).toString('hex') };
      execFileSync(
        'softhsm2-util',
        [
          '--init-token',
          '--free',
          '--label',
          token.tokenLabel,
          '--pin',
          token.pin,
          '--so-pin',
          randomBytes(6).toString('hex'),
        ],
        { env, stdio: 'ignore' },
      );
      return token;
    },
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
