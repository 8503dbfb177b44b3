/**
 * The host's TLS identity on disk, in `<state dir>/identity/` (directory 0700): `host.pem` (0600: the
 * host's private key, which never leaves the host, followed by its certificate) and `ca.crt` (0644, the CA
 * of the control plane the host joined). Key and certificate share one file, written atomically (temporary
 * file, then rename), so a crash during a renewal leaves the old pair or the new one, never a mix. A key
 * file that group or others may read is refused, with the command that fixes it.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { VmcError } from '../../core/index.ts';
import { hostIdOfCertificate } from '../../pki/index.ts';
import type { HostCredentials } from './control-plane-client.ts';

export function credentialPaths(stateDir: string) {
  const directory = join(stateDir, 'identity');
  return {
    directory,
    keyAndCert: join(directory, 'host.pem'),
    ca: join(directory, 'ca.crt'),
  };
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
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

const pemBlock = (text: string, label: string): string | null => {
  const match = new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----\\n?`).exec(text);
  return match ? match[0].replace(/\n?$/, '\n') : null;
};

/** The stored identity, or null when this host never joined (or its files are gone). */
export async function readStoredCredentials(stateDir: string): Promise<HostCredentials | null> {
  const paths = credentialPaths(stateDir);
  const [keyAndCert, caPem] = await Promise.all([readIfPresent(paths.keyAndCert), readIfPresent(paths.ca)]);
  if (!keyAndCert || !caPem) return null;
  const mode = (await stat(paths.keyAndCert)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new VmcError(
      'invalid',
      `host key ${paths.keyAndCert} has mode ${mode.toString(8)}: group or others may read it. Run \`chmod 600 ${paths.keyAndCert}\`.`,
      { reason: 'key_file_mode' },
    );
  }
  const keyPem = pemBlock(keyAndCert, 'PRIVATE KEY');
  const certPem = pemBlock(keyAndCert, 'CERTIFICATE');
  if (!keyPem || !certPem)
    throw new VmcError('invalid', `${paths.keyAndCert} must hold a PRIVATE KEY and a CERTIFICATE`, {
      reason: 'credentials_unreadable',
    });
  const certificate = new X509Certificate(certPem);
  if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new VmcError('invalid', `the certificate in ${paths.keyAndCert} does not belong to its key`, {
      reason: 'certificate_key_mismatch',
    });
  }
  const hostId = hostIdOfCertificate(certificate);
  if (!hostId)
    throw new VmcError('invalid', `${paths.keyAndCert} holds no host certificate`, {
      reason: 'not_a_host_certificate',
    });
  return { hostId, keyPem, certPem, caPem };
}

export async function storeCredentials(stateDir: string, credentials: Omit<HostCredentials, 'hostId'>): Promise<void> {
  const paths = credentialPaths(stateDir);
  await mkdir(paths.directory, { recursive: true, mode: 0o700 });
  await chmod(paths.directory, 0o700);
  await writeAtomically(paths.ca, credentials.caPem, 0o644);
  const keyPem = credentials.keyPem.endsWith('\n') ? credentials.keyPem : `${credentials.keyPem}\n`;
  await writeAtomically(paths.keyAndCert, keyPem + credentials.certPem, 0o600);
}
