/**
 * qemu-img operations on an instance's disk: the qcow2 overlay, internal snapshots of a stopped disk,
 * resize and export. While QEMU runs the image is locked; read-only inspection uses `-U` (force-share).
 *
 * Encrypted disks (qcow2 with `encrypt.format=luks`, AES-256-XTS) take their passphrase as a QEMU `secret`
 * object read from a short-lived 0600 file (secret-files.ts): never in argv or logs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { VmcError } from '../../../core/errors.ts';
import { writeSecretFile, type SecretFile } from './secret-files.ts';

const execFileAsync = promisify(execFile);

export interface QemuImgSnapshot {
  id: string;
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'date-nsec': number;
}

export interface DiskInfo {
  'virtual-size': number;
  'actual-size'?: number;
  format: string;
  encrypted?: boolean;
  snapshots?: QemuImgSnapshot[];
}

/** The LUKS passphrase of an encrypted disk (base64 text of 32 random bytes), or null for a plain disk. */
export type DiskKey = string | null;

/** The id of the disk's secret object in qemu-img and QEMU command lines (its value comes from a file). */
export const diskSecretId = 'vmc-disk-key';
/** The secret of an encrypted export (another key than the disk's: the owner gets it, never the disk's). */
export const exportSecretId = 'vmc-export-key';

/** A secret handed to qemu-img as a `secret` object. */
export interface NamedSecret {
  id: string;
  value: string;
}

/**
 * LUKS header options: AES-256 in XTS mode with plain64 IVs. The passphrase is 256 random bits, so PBKDF
 * stretching adds nothing: a short iteration time keeps every open (QEMU start, qemu-img) fast.
 */
export const luksCreateOptions = (secretId: string) =>
  [
    'encrypt.format=luks',
    `encrypt.key-secret=${secretId}`,
    'encrypt.cipher-alg=aes-256',
    'encrypt.cipher-mode=xts',
    'encrypt.ivgen-alg=plain64',
    'encrypt.hash-alg=sha256',
    'encrypt.iter-time=50',
  ].join(',');

const escapeOption = (value: string) => value.replaceAll(',', ',,');

/** How qemu-img names the disk: a plain path, or `--image-opts` carrying the secret's id when encrypted. */
export function imageArgs(path: string, key: DiskKey): string[] {
  if (key === null) return ['-f', 'qcow2', path];
  return ['--image-opts', `driver=qcow2,file.filename=${escapeOption(path)},encrypt.key-secret=${diskSecretId}`];
}

/** Runs qemu-img with each secret in a 0600 file named by `--object secret,…`, deleted when it exits. */
async function runWithSecrets(
  binary: string,
  args: string[],
  secrets: NamedSecret[],
  secretsDir: string,
  timeoutMs: number,
): Promise<string> {
  const files: SecretFile[] = [];
  try {
    const objects: string[] = [];
    for (const secret of secrets) {
      const file = await writeSecretFile(secretsDir, secret.value);
      files.push(file);
      objects.push('--object', `secret,id=${secret.id},file=${file.path}`);
    }
    const { stdout } = await execFileAsync(binary, [args[0], ...objects, ...args.slice(1)], {
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new VmcError('internal', `${binary} ${args[0]} failed: ${stderr}`, { reason: 'qemu_img_failed' });
  } finally {
    for (const file of files) await file.remove();
  }
}

export function createDiskImages(qemuImg = 'qemu-img', secretsDir = '/tmp') {
  const run = async (args: string[], key: DiskKey = null, timeoutMs = 120_000, extra: NamedSecret[] = []) => {
    const secrets = [...(key === null ? [] : [{ id: diskSecretId, value: key }]), ...extra];
    // Making a LUKS header times the key derivation first; on a busy machine that measurement can fail
    // ("Unable to get accurate CPU usage") although nothing is wrong: such a run is tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await runWithSecrets(qemuImg, args, secrets, secretsDir, timeoutMs);
      } catch (error) {
        const benchmarkFailed = error instanceof VmcError && /Unable to get accurate CPU usage/.test(error.message);
        // qemu-img create and convert overwrite what a failed run left. The measurement fails in bursts of
        // load: wait a little longer before each new try (0.2 s, 0.4 s … 1.8 s).
        if (!benchmarkFailed || attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };
  const encryption = (key: DiskKey) => (key === null ? [] : ['-o', luksCreateOptions(diskSecretId)]);
  return {
    /**
     * A qcow2 overlay on `base` (`baseFormat` given explicitly: never probed), of at least `sizeBytes`;
     * encrypted with LUKS when `key` is given (what the guest writes is encrypted; the public base is not).
     */
    async createOverlay(path: string, base: string, baseFormat: 'qcow2' | 'raw', sizeBytes: number, key: DiskKey) {
      await run(
        ['create', '-q', '-f', 'qcow2', ...encryption(key), '-F', baseFormat, '-b', base, path, String(sizeBytes)],
        key,
      );
    },
    async createBlank(path: string, sizeBytes: number, key: DiskKey) {
      await run(['create', '-q', '-f', 'qcow2', ...encryption(key), path, String(sizeBytes)], key);
    },
    /** `qemu-img info` of a disk this driver wrote, its format given (never probed); needs no key. */
    async info(path: string, options: { format: 'qcow2' | 'raw'; forceShare: boolean }): Promise<DiskInfo> {
      const args = ['info', '-f', options.format, ...(options.forceShare ? ['-U'] : []), '--output=json', path];
      return JSON.parse(await run(args)) as DiskInfo;
    },
    /** Grows the disk to `sizeBytes` (never shrinks: the caller checks); the disk must not be in use. */
    async grow(path: string, sizeBytes: number, key: DiskKey) {
      await run(['resize', '-q', ...imageArgs(path, key), String(sizeBytes)], key);
    },
    async snapshotCreate(path: string, name: string, key: DiskKey) {
      await run(['snapshot', '-c', name, ...imageArgs(path, key)], key);
    },
    async snapshotApply(path: string, name: string, key: DiskKey) {
      await run(['snapshot', '-a', name, ...imageArgs(path, key)], key);
    },
    async snapshotDelete(path: string, name: string, key: DiskKey) {
      await run(['snapshot', '-d', name, ...imageArgs(path, key)], key);
    },
    /** A qcow2 disk made from a raw image (a restore), encrypted under `key` when given. */
    async importRaw(raw: string, destination: string, key: DiskKey) {
      await run(
        ['convert', '-q', '-f', 'raw', raw, '-O', 'qcow2', ...encryption(key), destination],
        key,
        60 * 60 * 1000,
      );
    },
    /**
     * Flattens the disk (with its base) into a standalone image; from an internal snapshot when given.
     * The copy is plain unless `encryptWith` is given: then it is a LUKS qcow2 under that passphrase (a
     * key of its own, never the disk's).
     */
    async convert(
      path: string,
      destination: string,
      options: {
        format: 'qcow2' | 'raw';
        fromSnapshot?: string;
        forceShare: boolean;
        compress?: boolean;
        key: DiskKey;
        encryptWith?: string;
      },
    ) {
      await run(
        [
          'convert',
          '-q',
          ...(options.forceShare ? ['-U'] : []),
          ...(options.fromSnapshot ? ['-l', `snapshot.name=${options.fromSnapshot}`] : []),
          '-O',
          options.format,
          ...(options.compress && options.format === 'qcow2' ? ['-c'] : []),
          ...(options.encryptWith ? ['-o', luksCreateOptions(exportSecretId)] : []),
          ...imageArgs(path, options.key),
          destination,
        ],
        options.key,
        60 * 60 * 1000,
        options.encryptWith ? [{ id: exportSecretId, value: options.encryptWith }] : [],
      );
    },
  };
}

export type DiskImages = ReturnType<typeof createDiskImages>;
