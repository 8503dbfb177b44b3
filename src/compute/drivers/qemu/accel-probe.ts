/**
 * KVM or TCG. `/dev/kvm` existing is not enough: on nested hosts (kvm_pvm here) QEMU starts, prints the
 * real-mode banner, and the Linux guest then hangs forever, or QEMU aborts on an MSR (`-cpu host`). So the
 * probe boots a real kernel with `-accel kvm -cpu host` and `earlyprintk` and waits, with a short timeout,
 * for `Linux version` on the serial port (≈0.1 s under working KVM). Anything else means TCG.
 */
import { spawn } from 'node:child_process';
import { access, constants, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Accel } from './qemu-argv.ts';

export interface AccelProbeOptions {
  qemuBinary?: string;
  /** A bzImage to boot; default the newest /boot/vmlinuz-*. Without one, KVM is not trusted. */
  kernelPath?: string | null;
  timeoutMs?: number;
}

export interface AccelProbeResult {
  accel: Accel;
  reason: string;
}

export async function newestBootKernel(bootDir = '/boot'): Promise<string | null> {
  const names = (await readdir(bootDir).catch(() => [] as string[])).filter((name) => name.startsWith('vmlinuz-'));
  names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const newest = names.at(-1);
  return newest ? join(bootDir, newest) : null;
}

export async function probeAccel(options: AccelProbeOptions = {}): Promise<AccelProbeResult> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not accessible' };
  }
  const kernel = options.kernelPath === undefined ? await newestBootKernel() : options.kernelPath;
  if (!kernel) return { accel: 'tcg', reason: 'no kernel to probe KVM with' };
  const timeoutMs = options.timeoutMs ?? 3000;
  return new Promise<AccelProbeResult>((resolve) => {
    const child = spawn(
      options.qemuBinary ?? 'qemu-system-x86_64',
      [
        '-accel',
        'kvm',
        '-cpu',
        'host',
        '-nodefaults',
        '-no-user-config',
        '-display',
        'none',
        '-m',
        '128',
        '-serial',
        'stdio',
        '-no-reboot',
        '-kernel',
        kernel,
        '-append',
        'console=ttyS0 earlyprintk=ttyS0 panic=-1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let settled = false;
    const finish = (result: AccelProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ accel: 'tcg', reason: `KVM guest printed nothing within ${timeoutMs} ms (nested KVM?)` }),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('latin1');
      if (output.includes('Linux version')) finish({ accel: 'kvm', reason: 'a KVM guest kernel booted' });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('latin1');
    });
    child.once('error', (error) => finish({ accel: 'tcg', reason: `QEMU could not run: ${error.message}` }));
    child.once('exit', (code) => {
      const lastLine = output.trim().split('\n').at(-1) ?? '';
      finish({ accel: 'tcg', reason: `QEMU with KVM exited (${code}): ${lastLine}` });
    });
  });
}
