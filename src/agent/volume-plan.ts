/**
 * The reconcile step of the host agent for volumes, pure: from desired and observed volumes (and the
 * host's instances), the driver operations that bring one closer to the other, one per volume per pass.
 * An attachment waits while its instance is missing or starting (the driver attaches a volume to an
 * instance it has; a booting QEMU is left to boot). A volume the control plane does not list is left
 * alone: volumes hold customers' data, so an orphan is reported, never removed by the agent.
 */
import type { DesiredVolume, DesiredVolumeSource, ObservedInstance } from '../contract/index.ts';
import type { DriverVolume } from '../compute/index.ts';

export type VolumeOperation =
  | { kind: 'create'; volumeId: string; sizeGiB: number; source?: DesiredVolumeSource }
  | { kind: 'resize'; volumeId: string; sizeGiB: number }
  | { kind: 'attach'; volumeId: string; serverId: string }
  | { kind: 'detach'; volumeId: string; serverId: string }
  | { kind: 'delete'; volumeId: string };

export function planVolumeOperations(
  desired: DesiredVolume[],
  observed: DriverVolume[],
  instances: ObservedInstance[],
): VolumeOperation[] {
  const seen = new Map(observed.map((v) => [v.volumeId, v]));
  const power = new Map(instances.map((i) => [i.serverId, i.power]));
  const settled = (serverId: string) => {
    const p = power.get(serverId);
    return p !== undefined && p !== 'starting' && p !== 'stopping';
  };
  const operations: VolumeOperation[] = [];
  for (const want of desired) {
    const { volumeId } = want;
    const have = seen.get(volumeId);
    if (want.desired === 'deleted') {
      if (!have) continue;
      if (have.serverId !== null) operations.push({ kind: 'detach', volumeId, serverId: have.serverId });
      else operations.push({ kind: 'delete', volumeId });
      continue;
    }
    if (!have) {
      operations.push({
        kind: 'create',
        volumeId,
        sizeGiB: want.sizeGiB,
        ...(want.source ? { source: want.source } : {}),
      });
      continue;
    }
    if (have.serverId !== null && have.serverId !== want.serverId) {
      // An instance that is gone leaves nothing to unplug: the driver just forgets the attachment.
      if (!power.has(have.serverId) || settled(have.serverId))
        operations.push({ kind: 'detach', volumeId, serverId: have.serverId });
      continue;
    }
    if (have.sizeGiB < want.sizeGiB) {
      operations.push({ kind: 'resize', volumeId, sizeGiB: want.sizeGiB });
      continue;
    }
    if (want.serverId !== null && have.serverId === null && settled(want.serverId))
      operations.push({ kind: 'attach', volumeId, serverId: want.serverId });
  }
  return operations;
}

/** What an operation keeps busy: its volume, and the instance it plugs into or out of (no start meanwhile). */
export function volumeOperationKeys(op: VolumeOperation): string[] {
  return op.kind === 'attach' || op.kind === 'detach' ? [op.volumeId, op.serverId] : [op.volumeId];
}
