/**
 * Agent telemetry through the control plane (docs/observability.md, docs/status-page.md): two hosts join a
 * region as real (`qemu`) hosts would, each with a UDP echo prober on loopback where its host API address
 * says; one answers only nine requests in ten. Their agents probe each other and report; the region's
 * intra-DC latency and loss show on `GET /metrics` and `GET /v1/promises`, measured over sockets (not
 * simulated). One host's driver reports known CPU and disk counters for a server: `GET
 * /v1/servers/{id}/metrics?type=cpu,disk` answers their rates, with source `agent`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAgent, createUdpProber, type UdpProber } from '../src/agent/index.ts';
import { createMtlsLink, fetchTrustedCa, joinControlPlane } from '../src/agent/mtls/index.ts';
import { createKeyAndCsr } from '../src/pki/index.ts';
import { createSimDriver } from '../src/compute/index.ts';
import { silentLogger } from '../src/core/index.ts';
import { hostShapes, topologyOfShape } from '../src/inventory/index.ts';
import { createClient } from '../src/client/index.ts';
import { createHostToken } from '../src/contract/index.ts';
import { startTestControlPlane, until, fastSimDelays } from './helpers.ts';

test('agents probe each other and report usage: region latency and loss, a server’s CPU and disk', async () => {
  const t = await startTestControlPlane('sqlite', { fleet: 'none', telemetry: { reportIntervalMs: 200 } });
  const stops: Array<() => Promise<void>> = [];
  try {
    const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
    const agentUrl = await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 });
    const t0 = Date.now();
    /** Known counters: 1.5 CPU seconds per second, 100 reads and 50 writes of 4 KiB per second. */
    const counters = (serverId: string) => {
      const s = (Date.now() - t0) / 1000;
      return {
        serverId,
        cpuSeconds: 1.5 * s,
        memoryBytes: 1 << 30,
        diskReadBytes: 409_600 * s,
        diskWriteBytes: 204_800 * s,
        diskReadOps: 100 * s,
        diskWriteOps: 50 * s,
        networkReceiveBytes: 0,
        networkTransmitBytes: 0,
      };
    };

    async function joinHost(name: string, dropEvery?: number): Promise<{ hostId: string; prober: UdpProber }> {
      const prober = await createUdpProber({ host: '127.0.0.1', port: 0, intervalMs: 20, timeoutMs: 300, dropEvery });
      const token = await operator.call(createHostToken, { body: { name } });
      const caPem = await fetchTrustedCa(agentUrl, token.ca_sha256);
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
      const shape = hostShapes['std-7543'];
      const joined = await joinControlPlane({
        controlPlaneUrl: agentUrl,
        caPem,
        joinToken: token.secret,
        registration: {
          name,
          region: 'fra1',
          driver: 'qemu',
          cpuModel: shape.cpuModel,
          topology: topologyOfShape(shape),
          agentVersion: 'test',
          // The echo responder listens on the host API's port number (UDP).
          address: `https://127.0.0.1:${prober.port}`,
          images: null,
        },
        csrPem,
      });
      const credentials = { hostId: joined.hostId, caPem, certPem: joined.certPem, keyPem };
      const link = createMtlsLink({ controlPlaneUrl: agentUrl, credentials: () => credentials });
      const driver = createSimDriver({ delays: fastSimDelays });
      // The driver's counters: known figures for every instance it runs.
      driver.usage = async () =>
        (await driver.list()).filter((o) => o.power === 'running').map((o) => counters(o.serverId));
      const agent = createAgent({
        hostId: joined.hostId,
        link,
        driver,
        log: silentLogger,
        resyncIntervalMs: 50,
        heartbeatIntervalMs: 1000,
        gracefulStopTimeoutMs: 1000,
        telemetry: { prober, reportUsage: true, intervalMs: 200 },
      });
      agent.start();
      stops.push(async () => {
        await agent.stop();
        await prober.close();
        link.close();
        await driver.close();
      });
      return { hostId: joined.hostId, prober };
    }

    await joinHost('fra1-probe-a');
    const b = await joinHost('fra1-probe-b', 10);

    // Region figures on GET /metrics (operator token) once both agents have probed for a while.
    const scrape = async () =>
      (await t.call('GET', '/metrics', { token: t.secrets.operatorToken, headers: { accept: 'text/plain' } }))
        .body as string;
    const gauge = (text: string, name: string) => {
      const match = new RegExp(`^${name}\\{region="fra1"\\} ([0-9.e+-]+)$`, 'm').exec(text);
      return match ? Number(match[1]) : null;
    };
    const text = await until('probes between the two hosts', async () => {
      const body = await scrape();
      const sent = gauge(body, 'vmcloud_region_intra_dc_probes');
      return sent !== null && sent >= 400 && b.prober.answered() >= 100 ? body : null;
    });
    const loss = gauge(text, 'vmcloud_region_intra_dc_packet_loss_ratio')!;
    // A's probes lose one in ten (B drops them), B's none: about 5 % of the region's probes.
    assert.ok(loss > 0.02 && loss < 0.1, `loss ${loss}`);
    const p50 = gauge(text, 'vmcloud_region_intra_dc_rtt_p50_seconds')!;
    assert.ok(p50 > 0 && p50 < 0.3, `p50 ${p50} s`);
    assert.ok(gauge(text, 'vmcloud_region_intra_dc_rtt_p99_seconds')! >= p50);
    assert.equal(gauge(text, 'vmcloud_region_intra_dc_simulated'), 0);

    // The promises: measured per region over sockets, not simulated; 5 % loss breaks "< 0.01 %".
    const promises = (await t.call('GET', '/v1/promises', { token: null })).body.promises as Array<{
      id: string;
      measured: number | null;
      holds: boolean | null;
      simulated: boolean;
      regions?: Array<{ region: string; measured: number | null; samples: number; simulated: boolean }>;
    }>;
    const lossRow = promises.find((p) => p.id === 'packet_loss')!;
    assert.ok(lossRow.measured! > 1 && lossRow.measured! < 10, `packet loss ${lossRow.measured} %`);
    assert.equal(lossRow.holds, false);
    assert.equal(lossRow.simulated, false);
    assert.deepEqual(
      lossRow.regions?.map((r) => [r.region, r.simulated]),
      [['fra1', false]],
    );
    const latencyRow = promises.find((p) => p.id === 'latency.intra_dc_p50')!;
    assert.ok(latencyRow.measured! > 0, `p50 ${latencyRow.measured} ms`);
    assert.equal(latencyRow.simulated, false);

    // A server on one of these hosts: its CPU and disk rates from the counters its agent reported.
    const created = await t.call('POST', '/v1/servers', {
      body: { name: 'metered', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const serverId = created.body.server.id as string;
    const series = await until('agent-reported cpu and disk points', async () => {
      const start = new Date(Date.now() - 600_000).toISOString();
      const answer = await t.call('GET', `/v1/servers/${serverId}/metrics?type=cpu,disk&start=${start}&step=1`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const values = answer.body.metrics.time_series.cpu.values as Array<[number, string]>;
      return values.length > 0 ? answer.body : null;
    });
    assert.deepEqual(series.sources, { cpu: 'agent', disk: 'agent' });
    const all = (name: string) => (series.metrics.time_series[name].values as Array<[number, string]>).map((v) => v[1]);
    // The fake counters grow with the wall clock and the agent reads them a few ms after it stamps its
    // interval: on a busy machine a rate is off by a fraction of a percent, never by more than 5 %.
    const near = (name: string, rate: number) =>
      assert.ok(
        all(name).every((v) => Math.abs(Number(v) / rate - 1) < 0.05),
        `${name} ${all(name)} (expected ${rate})`,
      );
    near('cpu', 150);
    near('disk.0.iops.read', 100);
    near('disk.0.iops.write', 50);
    near('disk.0.bandwidth.read', 409_600);
    near('disk.0.bandwidth.write', 204_800);
  } finally {
    for (const stop of stops) await stop();
    await t.dispose();
  }
});
