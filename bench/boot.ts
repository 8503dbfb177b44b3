/**
 * `npm run bench:boot`: create-to-guest-userspace time through the QEMU driver, and the RSS of an idle guest.
 *
 *   node bench/boot.ts [--runs 5] [--accel auto|tcg|kvm] [--vcpus 1] [--memory-mib 256] [--idle-ms 3000] [--json]
 *
 * Each run creates a fresh server from the test image (built into a temporary store first, ≈0.2 s), times
 * driver.start() → the guest's userspace marker on the serial console, waits until the guest is idle,
 * samples VmRSS of its QEMU process, then destroys it. Runs are sequential. `--json` prints one object:
 * `{ bootMs (median), bootP90Ms (nearest rank), idleRssMiB (median), accel }`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { guestMarkers } from '../src/images/index.ts';
import { createQemuDriver } from '../src/compute/drivers/qemu/index.ts';
import {
  realQemuSkipReason,
  testImageStore,
  testSpec,
  waitFor,
} from '../src/compute/drivers/qemu/real-qemu-support.ts';
import { readRssKiB } from '../src/compute/drivers/qemu/qemu-process.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    accel: { type: 'string', default: 'auto' },
    vcpus: { type: 'string', default: '1' },
    'memory-mib': { type: 'string', default: '256' },
    'idle-ms': { type: 'string', default: '3000' },
    json: { type: 'boolean', default: false },
  },
});

const runs = Number(values.runs);
const accelOption = values.accel as 'auto' | 'tcg' | 'kvm';
const say = (line: string) => {
  if (!values.json) console.log(line);
};

const skip = await realQemuSkipReason();
if (skip) {
  console.error(skip);
  process.exit(1);
}

const median = (sorted: number[]) => sorted[Math.floor((sorted.length - 1) / 2)];
const nearestRank = (sorted: number[], percentile: number) =>
  sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)];

const { store, dir: imageDir } = await testImageStore();
const stateDir = await mkdtemp(join(tmpdir(), 'vmc-bench-'));
const driver = createQemuDriver({ stateDir, imageStore: store, accel: accelOption });
const accel = await driver.accel();
say(`accelerator: ${accel.accel} (${accel.reason}); ${runs} runs, ${values.vcpus} vCPU, ${values['memory-mib']} MiB`);

const bootMs: number[] = [];
const rssMiB: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    const serverId = `srv_bench${run}`;
    const spec = testSpec(serverId, {
      vcpus: Number(values.vcpus),
      memoryMiB: Number(values['memory-mib']),
      threads: [cpus().length - 1],
    });
    const started = performance.now();
    await driver.start(spec, 0);
    const startReturnedMs = Math.round(performance.now() - started);
    const console = await driver.attachConsole(serverId, { readOnly: true });
    let seen = '';
    let upAt = 0;
    let readyAt = 0;
    console.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!upAt && seen.includes(guestMarkers.userspace)) upAt = performance.now();
      if (!readyAt && seen.includes(guestMarkers.ready)) readyAt = performance.now();
    });
    await waitFor('the guest to be ready', () => readyAt > 0, 60_000, 10);
    console.destroy();
    const elapsedMs = Math.round(upAt - started);
    // Let the guest settle to idle before measuring its footprint.
    await new Promise((resolve) => setTimeout(resolve, Number(values['idle-ms'])));
    const pid = await driver.processId(serverId);
    const rssKiB = pid ? await readRssKiB(pid) : null;
    bootMs.push(elapsedMs);
    if (rssKiB !== null) rssMiB.push(Math.round(rssKiB / 1024));
    say(
      `run ${run + 1}: start() ${startReturnedMs} ms (disk, seed, spawn, QMP, pinning, cont), create → userspace ${elapsedMs} ms, → ready ${Math.round(readyAt - started)} ms, idle RSS ${rssKiB === null ? '?' : Math.round(rssKiB / 1024)} MiB`,
    );
    await driver.destroy(serverId);
  }
} finally {
  await driver.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(imageDir, { recursive: true, force: true });
}

const sortedBoot = [...bootMs].sort((a, b) => a - b);
const sortedRss = [...rssMiB].sort((a, b) => a - b);
const result = {
  bootMs: median(sortedBoot),
  bootP90Ms: nearestRank(sortedBoot, 90),
  idleRssMiB: median(sortedRss),
  accel: accel.accel,
};
if (values.json) console.log(JSON.stringify(result));
else
  say(
    `median ${result.bootMs} ms, p90 ${result.bootP90Ms} ms, idle RSS ${result.idleRssMiB} MiB (${result.accel}); min ${sortedBoot[0]} ms, max ${sortedBoot.at(-1)} ms`,
  );
