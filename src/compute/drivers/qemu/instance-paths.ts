/** Where one instance's files live under the driver's state directory: `<stateDir>/instances/<serverId>/`. */
import { join } from 'node:path';
import type { InstancePaths } from './qemu-argv.ts';

export function instancesDir(stateDir: string): string {
  return join(stateDir, 'instances');
}

export function instancePaths(stateDir: string, serverId: string): InstancePaths {
  const dir = join(instancesDir(stateDir), serverId);
  return {
    dir,
    specFile: join(dir, 'spec.json'),
    stateFile: join(dir, 'state.json'),
    pidFile: join(dir, 'qemu.pid'),
    qmpSocket: join(dir, 'qmp.sock'),
    consoleSocket: join(dir, 'console.sock'),
    consoleLog: join(dir, 'console.log'),
    previousConsoleLog: join(dir, 'console.previous.log'),
    qemuLog: join(dir, 'qemu.log'),
    disk: join(dir, 'disk.qcow2'),
    seed: join(dir, 'seed.iso'),
    pinFile: join(dir, 'pinning.json'),
    guestAgentSocket: join(dir, 'qga.sock'),
  };
}

/** Server ids become directory names and QEMU option values: allow only what ids are made of. */
export function isSafeServerId(serverId: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(serverId);
}
