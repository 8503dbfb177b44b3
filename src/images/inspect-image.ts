/**
 * `qemu-img info` on a file nobody vouches for (an upload), run as OpenStack runs it since CVE-2015-5162:
 * the format given with `-f` (never probed), under `prlimit` (CPU seconds and address space), with a wall
 * clock timeout on top. A file crafted to make qemu-img spin or allocate ends in a clear `invalid`, not a
 * hung import or an exhausted host.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { invalid, unavailable, type VmcError } from '../core/errors.ts';
import type { QemuImgInfo } from './classify-image.ts';

const execFileAsync = promisify(execFile);

export interface QemuImgLimits {
  /** RLIMIT_CPU of qemu-img (OpenStack: 30 s). */
  cpuSeconds: number;
  /** RLIMIT_AS of qemu-img (OpenStack: 1 GiB). */
  addressSpaceBytes: number;
  /** Wall clock bound, for a qemu-img blocked without using CPU. */
  timeoutMs: number;
}

export const defaultQemuImgLimits: QemuImgLimits = {
  cpuSeconds: 30,
  addressSpaceBytes: 1024 * 1024 * 1024,
  timeoutMs: 120_000,
};

export interface InspectOptions {
  qemuImgBinary: string;
  prlimitBinary: string;
  limits: QemuImgLimits;
}

/** The argv of the inspection: `prlimit --cpu=… --as=… qemu-img info -f <format> --output=json <path>`. Pure. */
export function inspectionArgv(path: string, format: 'qcow2' | 'raw', options: InspectOptions): string[] {
  return [
    `--cpu=${options.limits.cpuSeconds}`,
    `--as=${options.limits.addressSpaceBytes}`,
    options.qemuImgBinary,
    'info',
    '-f',
    format,
    '--output=json',
    path,
  ];
}

export interface InspectionFailure {
  /** `execFile`'s fields: killed by our timeout, the signal, the exit code, stderr. */
  killed?: boolean;
  signal?: string | null;
  code?: number | string | null;
  stderr?: string;
}

const MiB = 1024 * 1024;
const addressSpaceSymptoms =
  /Cannot allocate memory|Resource temporarily unavailable|failed to map|out of memory|bad_alloc|Failed to allocate/i;

/** Why qemu-img info failed, as the `invalid` error the import answers with. Pure. */
export function explainInspectionFailure(failure: InspectionFailure, limits: QemuImgLimits): VmcError {
  const stderr = (failure.stderr ?? '').trim();
  const lastLine = stderr.split('\n').at(-1) ?? '';
  if (failure.killed && failure.signal === 'SIGTERM') {
    return invalid(`qemu-img info did not finish within ${limits.timeoutMs / 1000} s: the image is refused`, {
      reason: 'image_inspection_limit',
      details: { limit: 'timeout', timeoutMs: limits.timeoutMs },
    });
  }
  if (failure.signal === 'SIGXCPU' || failure.signal === 'SIGKILL') {
    return invalid(`qemu-img info used up its CPU limit of ${limits.cpuSeconds} s: the image is refused`, {
      reason: 'image_inspection_limit',
      details: { limit: 'cpu', cpuSeconds: limits.cpuSeconds },
    });
  }
  if (
    failure.signal === 'SIGABRT' ||
    failure.signal === 'SIGSEGV' ||
    failure.signal === 'SIGBUS' ||
    addressSpaceSymptoms.test(stderr)
  ) {
    return invalid(
      `qemu-img info ran out of its address-space limit of ${Math.round(limits.addressSpaceBytes / MiB)} MiB: the image is refused`,
      {
        reason: 'image_inspection_limit',
        details: { limit: 'address_space', addressSpaceBytes: limits.addressSpaceBytes, stderr: lastLine },
      },
    );
  }
  return invalid(`qemu-img could not read the image${lastLine ? `: ${lastLine}` : ''}`, {
    reason: 'image_unreadable',
  });
}

/** Runs the limited `qemu-img info` and parses its JSON; throws the explained `invalid` on failure. */
export async function inspectUntrustedImage(
  path: string,
  format: 'qcow2' | 'raw',
  options: InspectOptions,
): Promise<QemuImgInfo> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(options.prlimitBinary, inspectionArgv(path, format, options), {
      timeout: options.limits.timeoutMs,
      killSignal: 'SIGTERM',
      maxBuffer: MiB,
    }));
  } catch (error) {
    const failure = error as InspectionFailure & NodeJS.ErrnoException;
    if (failure.code === 'ENOENT')
      throw unavailable(`${options.prlimitBinary} is missing on this host (apt-get install util-linux)`, {
        reason: 'prlimit_missing',
      });
    throw explainInspectionFailure(failure, options.limits);
  }
  try {
    return JSON.parse(stdout) as QemuImgInfo;
  } catch (error) {
    throw invalid('qemu-img info printed no JSON', { reason: 'image_unreadable', cause: error });
  }
}
