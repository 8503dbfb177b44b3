/**
 * The agent loop against drivers that fail. The finding it reproduces: with the QEMU driver, a server whose
 * image file is missing on the host made `start` reject while the agent was still awaiting I/O for its
 * transition report, so the rejection went unhandled and ended the process, after hundreds of attempts in
 * a few milliseconds. Here: bounded attempts with backoff, the server ends `error` with the driver's
 * message, no rejection is left unhandled, and the loop keeps converging the other servers.
 *
 * The control plane is a fake link that applies reports with the real pure rules (`deriveServerStatus`,
 * `judgeAction`), as host-sync does, after a tick of I/O, as a database transaction would take.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSimDriver,
  deriveServerStatus,
  judgeAction,
  type ActionTarget,
  type ActionVerdict,
  type Driver,
  type InstanceSpec,
  type ServerStatus,
} from '../compute/index.ts';
import type { DesiredInstance, DesiredVolume, DesiredVolumeSource, ObservedVolume } from '../contract/index.ts';
import { silentLogger } from '../core/index.ts';
import { createAgent, type Agent } from './agent.ts';
import type { ControlPlaneLink } from './link.ts';
import type { RetryPolicy } from './plan.ts';
import { testSpec } from '../compute/drivers/qemu/real-qemu-support.ts';
import { fakeQemuHost, fakeQemuSkipReason } from '../compute/drivers/qemu/testdata/conformance-hooks.ts';

interface FakeServer {
  want: DesiredInstance;
  status: ServerStatus;
  detail: string | null;
  action: { target: ActionTarget; verdict: ActionVerdict | null };
}

const io = () => new Promise((resolve) => setImmediate(resolve));

function fakeControlPlane() {
  const servers = new Map<string, FakeServer>();
  const link: ControlPlaneLink = {
    async desired() {
      await io();
      return [...servers.values()].filter((server) => server.status !== 'deleted').map((server) => server.want);
    },
    async report(_hostId, observed, options) {
      await io();
      const byId = new Map(observed.map((o) => [o.serverId, o]));
      for (const [serverId, server] of servers) {
        if (server.status === 'deleted' || (!options.full && !byId.has(serverId))) continue;
        const seen = byId.get(serverId) ?? null;
        server.status = deriveServerStatus({
          desired: server.want.desired,
          observed: seen,
          rebootGeneration: server.want.rebootGeneration,
          hostUp: true,
          previous: server.status,
        });
        server.detail = server.status === 'error' ? (seen?.detail ?? null) : null;
        if (!server.action.verdict?.done) {
          const verdict = judgeAction(
            server.action.target,
            server.status,
            seen?.rebootGeneration ?? 0,
            server.detail,
            seen?.power === 'failed',
          );
          server.action.verdict = verdict.done ? verdict : null;
        }
      }
    },
    async heartbeat() {},
  };
  return {
    link,
    create(spec: InstanceSpec) {
      servers.set(spec.serverId, {
        want: { spec, desired: 'running', rebootGeneration: 0, forceStop: false },
        status: 'pending',
        detail: null,
        action: { target: { status: 'running' }, verdict: null },
      });
    },
    remove(serverId: string) {
      const server = servers.get(serverId)!;
      server.want = { ...server.want, desired: 'deleted' };
      server.action = { target: { status: 'deleted' }, verdict: null };
    },
    server: (serverId: string) => servers.get(serverId)!,
  };
}

/** Counts the driver's start calls per server. */
function countingStarts<D extends Driver>(driver: D): D & { starts(serverId: string): number } {
  const counts = new Map<string, number>();
  return Object.assign(Object.create(driver) as D, {
    start(spec: InstanceSpec, rebootGeneration: number) {
      counts.set(spec.serverId, (counts.get(spec.serverId) ?? 0) + 1);
      return driver.start(spec, rebootGeneration);
    },
    starts: (serverId: string) => counts.get(serverId) ?? 0,
  });
}

async function eventually(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Collects unhandled rejections while `body` runs (node would otherwise end the process on the first). */
async function withUnhandledRejections(body: (seen: unknown[]) => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body(seen);
  } finally {
    process.off('unhandledRejection', listener);
  }
}

/** Fast retries, then nothing for an hour once the agent gives up: attempts are countable. */
const retryPolicy: Partial<RetryPolicy> = { baseDelayMs: 2, maxDelayMs: 3_600_000, maxAttempts: 3 };

function agentFor(link: ControlPlaneLink, driver: Driver): Agent {
  return createAgent({
    hostId: 'host_test',
    link,
    driver,
    log: silentLogger,
    resyncIntervalMs: 60_000,
    heartbeatIntervalMs: 60_000,
    gracefulStopTimeoutMs: 1000,
    retryPolicy,
  });
}

/** The scenario, on any driver where `bad`'s image is missing and `good`'s is there. */
async function missingImageScenario(
  driver: Driver & { starts(serverId: string): number },
  specs: { bad: InstanceSpec; good: InstanceSpec; late: InstanceSpec },
  expectedMessage: RegExp,
) {
  await withUnhandledRejections(async (unhandled) => {
    const cp = fakeControlPlane();
    cp.create(specs.bad);
    cp.create(specs.good);
    const agent = agentFor(cp.link, driver);
    agent.start();
    try {
      await eventually('bad to be error', () => cp.server(specs.bad.serverId).status === 'error');
      await eventually('good to run', () => cp.server(specs.good.serverId).status === 'running');

      const bad = cp.server(specs.bad.serverId);
      assert.equal(driver.starts(specs.bad.serverId), 3, 'exactly maxAttempts attempts');
      assert.match(bad.detail ?? '', expectedMessage, 'server show: the driver message');
      assert.equal(bad.action.verdict?.done, true);
      assert.equal(bad.action.verdict.ok, false);
      assert.ok(!bad.action.verdict.ok && bad.action.verdict.code === 'operation_failed');
      assert.match(bad.action.verdict.message, expectedMessage, 'the action ends in error with the message');
      assert.equal(cp.server(specs.good.serverId).action.verdict?.done, true, "good's create action succeeded");
      assert.deepEqual(
        agent.failures().map((f) => [f.serverId, f.operation, f.failures, f.gaveUp]),
        [[specs.bad.serverId, 'start', 3, true]],
      );

      // No tight loop: passes keep coming (pokes, driver events) but the failed start waits its turn.
      for (let i = 0; i < 50; i++) agent.poke();
      await agent.idle();
      assert.equal(driver.starts(specs.bad.serverId), 3, 'no attempt before the capped retry interval');

      // The loop is alive: a new server converges.
      cp.create(specs.late);
      agent.poke();
      await eventually('a later server to run', () => cp.server(specs.late.serverId).status === 'running');

      // A new request about the failed server runs at once: delete it.
      cp.remove(specs.bad.serverId);
      agent.poke();
      await eventually('bad to be deleted', () => cp.server(specs.bad.serverId).status === 'deleted');
      assert.deepEqual(cp.server(specs.bad.serverId).action.verdict, { done: true, ok: true });
      assert.deepEqual(agent.failures(), [], 'nothing failing any more');
    } finally {
      await agent.stop();
      for (const instance of await driver.list()) await driver.destroy(instance.serverId).catch(() => {});
      await driver.close();
    }
    assert.deepEqual(unhandled, [], 'no rejection left unhandled');
  });
}

test('sim driver: start rejects (image missing): bounded attempts, error with the message, the loop lives on', async () => {
  const sim = createSimDriver({
    delays: { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 },
    missingImages: ['debian-12'],
  });
  // list() does I/O, as the QEMU driver's readdir does: the rejection of start lands while it is pending.
  const driver = countingStarts(
    Object.assign(Object.create(sim) as typeof sim, {
      list: async () => {
        await io();
        return sim.list();
      },
    }),
  );
  const spec = (serverId: string, image: string) => ({ ...testSpec(serverId), image });
  await missingImageScenario(
    driver,
    { bad: spec('srv_bad', 'debian-12'), good: spec('srv_good', 'ubuntu-24.04'), late: spec('srv_late', 'rocky-9') },
    /^start failed 3 times: image debian-12 has no file on this host/,
  );
});

const fakeQemuSkip = fakeQemuSkipReason();

test(
  'QEMU driver: a server whose image file is missing on the host ends in error; the others run',
  { skip: fakeQemuSkip },
  async () => {
    const host = await fakeQemuHost({ catalogSlugs: ['debian-12'] });
    const stateDir = await mkdtemp(join(tmpdir(), 'vmc-ag-'));
    try {
      const driver = countingStarts(host.makeDriver(stateDir));
      await missingImageScenario(
        driver,
        {
          bad: testSpec('srv_bad', { image: 'debian-12' }),
          good: testSpec('srv_good'),
          late: testSpec('srv_late'),
        },
        /^start failed 3 times: image debian-12 is in the catalog but has no file on this host/,
      );
    } finally {
      await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
      await host.dispose();
    }
  },
);

test('a start that keeps crashing the instance backs off too, and the server is reported failed', async () => {
  const cp = fakeControlPlane();
  const driver = countingStarts(
    createSimDriver({
      delays: { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 },
      failingImages: ['broken'],
    }),
  );
  cp.create({ ...testSpec('srv_crashy'), image: 'broken' });
  const agent = agentFor(cp.link, driver);
  agent.start();
  try {
    await eventually('the agent to give up', () => agent.failures()[0]?.gaveUp === true);
    await agent.idle();
    assert.equal(driver.starts('srv_crashy'), 3);
    assert.equal(cp.server('srv_crashy').status, 'error');
    assert.equal(cp.server('srv_crashy').detail, 'start failed 3 times: simulated boot failure');
  } finally {
    await agent.stop();
    await driver.close();
  }
});

test('a driver whose list() fails makes passes fail, not the agent', async () => {
  await withUnhandledRejections(async (unhandled) => {
    const cp = fakeControlPlane();
    cp.create(testSpec('srv_a'));
    const sim = createSimDriver({ delays: { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 } });
    let broken = true;
    const driver = Object.assign(Object.create(sim) as typeof sim, {
      list: async () => {
        await io();
        if (broken) throw new Error('EIO: the state directory is unreadable');
        return sim.list();
      },
    });
    const agent = agentFor(cp.link, driver);
    agent.start();
    try {
      for (let i = 0; i < 5; i++) agent.poke();
      await agent.idle();
      assert.equal(cp.server('srv_a').status, 'pending', 'nothing happened while list() failed');
      broken = false;
      agent.poke();
      await eventually('the server to run once list() works', () => cp.server('srv_a').status === 'running');
    } finally {
      await agent.stop();
      await sim.close();
    }
    assert.deepEqual(unhandled, []);
  });
});

test('heartbeats carry the host images only when they changed since the last one taken', async () => {
  const cp = fakeControlPlane();
  const reports: Array<string[] | undefined> = [];
  let failNext = false;
  const link: ControlPlaneLink = {
    ...cp.link,
    async heartbeat(_hostId, report) {
      if (failNext) {
        failNext = false;
        throw new Error('the control plane is restarting');
      }
      reports.push(report?.images);
    },
  };
  let images = ['ubuntu-24.04', 'debian-12'];
  const sim = createSimDriver({ delays: { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 } });
  const agent = createAgent({
    hostId: 'host_test',
    link,
    driver: sim,
    log: silentLogger,
    resyncIntervalMs: 60_000,
    heartbeatIntervalMs: 5,
    gracefulStopTimeoutMs: 1000,
    images: async () => images,
  });
  agent.start();
  try {
    await eventually('three heartbeats', () => reports.length >= 3);
    assert.deepEqual(reports[0], ['debian-12', 'ubuntu-24.04'], 'the first carries them, sorted');
    assert.deepEqual(reports.slice(1, 3), [undefined, undefined], 'unchanged: not sent again');
    failNext = true;
    images = ['debian-12', 'rocky-9'];
    const seen = reports.length;
    await eventually('the change to be sent', () => reports.slice(seen).some((r) => r !== undefined));
    const sent = reports.slice(seen).filter((r) => r !== undefined);
    assert.deepEqual(sent, [['debian-12', 'rocky-9']], 'sent once, after the failed heartbeat');
  } finally {
    await agent.stop();
    await sim.close();
  }
});

test('a volume whose fill from its source keeps failing is reported failed with the reason; deleted, it is reported no more', async () => {
  let desired: DesiredVolume[] = [
    {
      volumeId: 'vol_fromsource',
      sizeGiB: 5,
      serverId: null,
      desired: 'present',
      source: { kind: 'snapshot', serverId: 'srv_gone', snapshot: 'snap-1' },
    },
  ];
  const reports: ObservedVolume[][] = [];
  const link: ControlPlaneLink = {
    async desired() {
      return [];
    },
    async report() {},
    async heartbeat() {},
    async desiredVolumes() {
      await io();
      return desired;
    },
    async reportVolumes(_hostId, volumes) {
      reports.push(volumes);
    },
  };
  const sim = createSimDriver({ delays: { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 } });
  const attempts: (DesiredVolumeSource | undefined)[] = [];
  const driver = Object.assign(Object.create(sim) as Driver, {
    async createVolume(_volumeId: string, _sizeGiB: number, source?: DesiredVolumeSource) {
      attempts.push(source);
      throw new Error('server srv_gone has no snapshot snap-1');
    },
  });
  const agent = agentFor(link, driver);
  agent.start();
  try {
    await eventually('the volume reported failed', () => reports.some((r) => r.some((v) => v.state === 'failed')));
    const failed = reports.flat().find((v) => v.state === 'failed')!;
    assert.deepEqual([failed.volumeId, failed.sizeGiB], ['vol_fromsource', 0], 'never made: no size');
    assert.match(failed.detail ?? '', /create failed 3 times: server srv_gone has no snapshot snap-1/);
    assert.equal(attempts.length, 3, 'maxAttempts attempts');
    assert.deepEqual(attempts[0], { kind: 'snapshot', serverId: 'srv_gone', snapshot: 'snap-1' }, 'with its source');

    desired = [{ ...desired[0], desired: 'deleted' }];
    agent.poke();
    await eventually('no volume reported any more', () => reports.at(-1)?.length === 0);
  } finally {
    await agent.stop();
    await sim.close();
  }
});

test('reports go out one at a time and observe in their turn: a slow report of "stopping" never lands after "stopped"', async () => {
  const cp = fakeControlPlane();
  let inFlight = 0;
  let mostInFlight = 0;
  /** The server's status after each report, once its stop action was judged done. */
  const afterDone: ServerStatus[] = [];
  const link: ControlPlaneLink = {
    ...cp.link,
    async report(hostId, observed, options) {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        // A full report is a slow transaction (a big host on a loaded database); a partial one is quick.
        if (options.full) await new Promise((resolve) => setTimeout(resolve, 40));
        await cp.link.report(hostId, observed, options);
        const server = cp.server('srv_a');
        if (server.action.target.status === 'stopped' && server.action.verdict?.done) afterDone.push(server.status);
      } finally {
        inFlight--;
      }
    },
  };
  const sim = createSimDriver({ delays: { startMs: 1, stopMs: 5, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 } });
  const agent = agentFor(link, sim);
  cp.create(testSpec('srv_a'));
  agent.start();
  try {
    await eventually('the server to run', () => cp.server('srv_a').status === 'running');
    await agent.idle();
    const server = cp.server('srv_a');
    server.want = { ...server.want, desired: 'stopped' };
    server.action = { target: { status: 'stopped' }, verdict: null };
    agent.poke();
    await eventually('the stop to be done', () => server.action.verdict?.done === true);
    assert.deepEqual(server.action.verdict, { done: true, ok: true });
    await agent.idle();
    assert.equal(server.status, 'stopped');
    assert.ok(afterDone.length > 0);
    assert.deepEqual(
      afterDone.filter((status) => status !== 'stopped'),
      [],
      'no report applied after the stop was done took the server out of stopped',
    );
    assert.equal(mostInFlight, 1, 'never two reports in flight');
  } finally {
    await agent.stop();
    await sim.close();
  }
});

test('a volume retry skipped a moment before its time by a pass that ends after it is run by the next pass, not the resync', async () => {
  let offsetMs = 0;
  const clock = {
    nowMs: () => Date.now() + offsetMs,
    nowIso: () => new Date(Date.now() + offsetMs).toISOString(),
  };
  const desired: DesiredVolume[] = [{ volumeId: 'vol_slow', sizeGiB: 5, serverId: null, desired: 'present' }];
  const sim = createSimDriver({ delays: { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 } });
  let attempts = 0;
  // After the first failure: the next pass plans (desiredVolumes, then the driver's list) while the retry's
  // 40 s have not passed; then, while it reports (the driver's list again), a minute goes by.
  let planning: 'idle' | 'armed' | 'listed' | 'done' = 'idle';
  const link: ControlPlaneLink = {
    async desired() {
      return [];
    },
    async report() {},
    async heartbeat() {},
    async desiredVolumes() {
      if (attempts === 1 && planning === 'idle') planning = 'armed';
      return desired;
    },
    async reportVolumes() {},
  };
  const driver = Object.assign(Object.create(sim) as Driver, {
    async createVolume() {
      attempts++;
      throw new Error('the pool is full');
    },
    async listVolumes() {
      if (planning === 'armed') planning = 'listed';
      else if (planning === 'listed') {
        planning = 'done';
        offsetMs += 60_000;
      }
      return sim.listVolumes();
    },
  });
  const agent = createAgent({
    hostId: 'host_test',
    link,
    driver,
    log: silentLogger,
    clock,
    random: () => 0,
    resyncIntervalMs: 600_000,
    heartbeatIntervalMs: 600_000,
    gracefulStopTimeoutMs: 1000,
    retryPolicy: { baseDelayMs: 40_000, maxDelayMs: 3_600_000, maxAttempts: 3, jitterRatio: 0 },
  });
  agent.start();
  try {
    await eventually('the second attempt', () => attempts >= 2, 5_000);
    assert.equal(planning, 'done', 'the minute went by during the pass that skipped the retry');
  } finally {
    await agent.stop();
    await sim.close();
  }
});

test('a retried start still running past its backoff wakes no passes in a loop', async () => {
  const cp = fakeControlPlane();
  let passes = 0;
  const link: ControlPlaneLink = {
    ...cp.link,
    async desired(hostId) {
      passes++;
      return cp.link.desired(hostId);
    },
  };
  const sim = createSimDriver({ delays: { startMs: 1, stopMs: 1, forcedStopMs: 1, rebootMs: 1, destroyMs: 1 } });
  let starts = 0;
  let passesDuringRetry = -1;
  const driver = Object.assign(Object.create(sim) as typeof sim, {
    async start(spec: InstanceSpec, rebootGeneration: number) {
      starts++;
      if (starts === 1) throw new Error('the image is being copied');
      // The retry takes half a second (a real guest's start), long past its 2 ms backoff.
      const before = passes;
      await new Promise((resolve) => setTimeout(resolve, 500));
      passesDuringRetry = passes - before;
      return sim.start(spec, rebootGeneration);
    },
  });
  const agent = agentFor(link, driver);
  cp.create(testSpec('srv_slow'));
  agent.start();
  try {
    await eventually('the server to run', () => cp.server('srv_slow').status === 'running');
    assert.equal(starts, 2);
    assert.ok(passesDuringRetry >= 0 && passesDuringRetry <= 3, `passes while the retry ran: ${passesDuringRetry}`);
  } finally {
    await agent.stop();
    await sim.close();
  }
});
