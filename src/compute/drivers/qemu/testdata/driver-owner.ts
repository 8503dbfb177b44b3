/**
 * A stand-in for the agent process in the re-attach tests: starts one instance through the QEMU driver,
 * prints `STARTED <pid>`, then idles until killed (the test kills it with SIGKILL, mid-boot or after).
 *   node driver-owner.ts <stateDir> <imageDir> <spec.json>
 */
import { readFileSync } from 'node:fs';
import { createImageStore } from '../../../../images/index.ts';
import { createQemuDriver } from '../qemu-driver.ts';
import type { InstanceSpec } from '../../driver.ts';

const [stateDir, imageDir, specPath] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, 'utf8')) as InstanceSpec;
const driver = createQemuDriver({ stateDir, imageStore: createImageStore({ dir: imageDir }), accel: 'tcg' });
await driver.start(spec, 0);
console.log(`STARTED ${await driver.processId(spec.serverId)}`);
setInterval(() => {}, 60_000);
