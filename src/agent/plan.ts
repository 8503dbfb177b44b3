import type { InstanceSpec, ObservedInstance, DesiredInstance } from '../compute/index.ts';

export type { DesiredInstance };

export type DriverOperation =
  | { kind: 'start'; serverId: string; spec: InstanceSpec; rebootGeneration: number }
  | { kind: 'stop'; serverId: string; force: boolean }
  | { kind: 'reboot'; serverId: string; rebootGeneration: number }
  | { kind: 'destroy'; serverId: string };

/**
 * The reconcile step of the host agent, pure: from desired and observed instances, the driver operations
 * that bring one closer to the other. A stopping instance is left alone until it settles; a starting one
 * is started again (drivers resume a boot that a previous agent left half done, and an agent never runs
 * two operations on one server at once); an instance the control plane does not know is an orphan and is
 * destroyed.
 */
export function planOperations(desired: DesiredInstance[], observed: ObservedInstance[]): DriverOperation[] {
  const seen = new Map(observed.map((o) => [o.serverId, o]));
  const operations: DriverOperation[] = [];
  for (const want of desired) {
    const serverId = want.spec.serverId;
    const have = seen.get(serverId);
    seen.delete(serverId);
    if (want.desired === 'deleted') {
      if (have) operations.push({ kind: 'destroy', serverId });
      continue;
    }
    if (want.desired === 'stopped') {
      if (have && (have.power === 'running' || have.power === 'starting')) operations.push({ kind: 'stop', serverId, force: want.forceStop });
      continue;
    }
    if (!have || have.power === 'stopped' || have.power === 'crashed' || have.power === 'starting') {
      operations.push({ kind: 'start', serverId, spec: want.spec, rebootGeneration: want.rebootGeneration });
    } else if (have.power === 'running' && have.rebootGeneration < want.rebootGeneration) {
      operations.push({ kind: 'reboot', serverId, rebootGeneration: want.rebootGeneration });
    }
  }
  for (const orphan of seen.keys()) operations.push({ kind: 'destroy', serverId: orphan });
  return operations;
}
