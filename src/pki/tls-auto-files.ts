/**
 * `serve --tls auto`: the self-signed server certificate kept in `<directory>/tls/` (directory 0700,
 * server.key 0600, server.crt 0644). Made on first start, reused afterwards, made anew once expired.
 * A key file that group or others may read is refused, with the command that fixes it.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VmcError } from '../core/errors.ts';
import { fingerprintSha256, parseCertificate } from './fingerprint.ts';
import { selfSignedServerCertificate } from './self-signed.ts';

export interface AutoTlsFiles {
  certPem: string;
  keyPem: string;
  fingerprintSha256: string;
  certPath: string;
  keyPath: string;
  /** True when this call made the certificate (print its fingerprint for the operator). */
  created: boolean;
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
}

async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function loadOrCreateAutoTlsFiles(options: {
  /** The data directory; files go to `<directory>/tls/`. */
  directory: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  nowMs: number;
}): Promise<AutoTlsFiles> {
  const tlsDirectory = join(options.directory, 'tls');
  await mkdir(tlsDirectory, { recursive: true, mode: 0o700 });
  const certPath = join(tlsDirectory, 'server.crt');
  const keyPath = join(tlsDirectory, 'server.key');

  const [certPem, keyPem] = await Promise.all([readIfPresent(certPath), readIfPresent(keyPath)]);
  if (certPem && keyPem) {
    const mode = (await stat(keyPath)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new VmcError(
        'invalid',
        `TLS key ${keyPath} has mode ${mode.toString(8)}: group or others may read it. Run \`chmod 600 ${keyPath}\`.`,
        { reason: 'key_file_mode' },
      );
    }
    if (parseCertificate(certPem).validToDate.getTime() > options.nowMs) {
      return { certPem, keyPem, fingerprintSha256: fingerprintSha256(certPem), certPath, keyPath, created: false };
    }
  }

  const made = await selfSignedServerCertificate(options);
  await writeAtomically(keyPath, made.keyPem, 0o600);
  await writeAtomically(certPath, made.certPem, 0o644);
  await chmod(tlsDirectory, 0o700);
  return {
    certPem: made.certPem,
    keyPem: made.keyPem,
    fingerprintSha256: made.fingerprintSha256,
    certPath,
    keyPath,
    created: true,
  };
}
