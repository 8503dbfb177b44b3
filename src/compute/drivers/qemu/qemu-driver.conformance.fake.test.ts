/**
 * The driver conformance suite on the QEMU driver with a fake QEMU binary (testdata/fake-qemu.ts: real
 * process, real QMP and console sockets, no guest). Fast (≈2 s); needs qemu-img, genisoimage and taskset.
 */
import { runDriverConformance } from '../conformance.ts';
import { qemuDiskOf, testSpec } from './real-qemu-support.ts';
import { fakeQemuHooks, fakeQemuHost, fakeQemuSkipReason } from './testdata/conformance-hooks.ts';

const skip = fakeQemuSkipReason();
const host = skip ? null : await fakeQemuHost();

runDriverConformance('qemu (fake QEMU binary)', (stateDir) => host!.makeDriver(stateDir), {
  skip,
  spec: (serverId) => testSpec(serverId),
  disk: (_driver, serverId, stateDir) => qemuDiskOf(stateDir, serverId),
  missingImage: 'no-such-image',
  ...fakeQemuHooks,
  after: async () => host?.dispose(),
  caseTimeoutMs: 30_000,
});
