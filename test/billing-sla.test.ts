/**
 * SLA credits from a measured outage, end to end: three projects on the three SLA tiers each run a
 * VPS-STARTER on one simulated host for all of April 2026 (a manual clock). The host's agent goes silent,
 * housekeeping marks the host down (its servers `unknown`), and exactly 3 h later the agent is back and
 * the servers run again. The metering consumer turns that into a 180-minute `host_down` interval; April's
 * invoices carry the credit of each tier, to the cent:
 *   credit = multiplier × 180 min × 9.99 € ÷ 43 200 min = 0.41625 € × multiplier/10
 *   standard 10× → 0.42 €, business 25× → 1.04 €, enterprise 50× → 2.08 € (half up, ADR 0008).
 * The invoice's PDF is read back with pdftotext.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createManualClock } from '../src/core/index.ts';
import { createClient, type ApiClient } from '../src/client/index.ts';
import {
  createHostToken,
  createServer,
  getInvoice,
  getServer,
  getSlaReport,
  listInvoices,
  listSlaCredits,
  runInvoicing,
  setBillingAccount,
} from '../src/contract/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';
import { runCli } from '../src/cli/index.ts';
import { startSimHost, type SimHost } from './sim-host.ts';

const hostDownAfterMs = 1000;
const outageMs = 3 * 3_600_000;
const tiers = [
  { tier: 'standard', credit: 42, country: 'EE', vatId: null },
  { tier: 'business', credit: 104, country: 'DE', vatId: 'DE123456789' },
  { tier: 'enterprise', credit: 208, country: 'CH', vatId: null },
] as const;

for (const dialect of testDialects()) {
  describe(`SLA credits from a host outage (${dialect})`, () => {
    const clock = createManualClock(Date.UTC(2026, 3, 1, 0, 0, 0));
    let t: TestControlPlane;
    let host: SimHost;
    const projects: Array<{
      tier: string;
      credit: number;
      client: ApiClient;
      token: string;
      projectId: string;
      serverId: string;
    }> = [];
    let outageStart = 0;

    before(async () => {
      t = await startTestControlPlane(dialect, { fleet: 'none', clock, hostDownAfterMs, loopIntervalMs: 3_600_000 });
      const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
      const token = await operator.call(createHostToken, { body: { name: 'par1-sla-001' } });
      const agentUrl = t.cp.agentListener.url ?? (await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 }));
      host = await startSimHost({
        agentUrl,
        caSha256: token.ca_sha256,
        hostToken: token.secret,
        name: 'par1-sla-001',
        region: 'par1',
      });
      for (const [index, terms] of tiers.entries()) {
        const made =
          index === 0
            ? { project_id: t.secrets.projectId, secret: t.secrets.projectToken }
            : await t.cp.services.identity.createProject({
                name: `sla-${terms.tier}`,
                ownerEmail: `${terms.tier}@example.com`,
              });
        const client = createClient({ baseUrl: t.url, token: made.secret });
        await client.call(setBillingAccount, {
          body: {
            name: `Customer ${terms.tier}`,
            address: '1 Main St\nTown',
            country: terms.country,
            vat_id: terms.vatId,
            sla_tier: terms.tier,
          },
        });
        const { server } = await client.call(createServer, {
          body: { name: `sla-${terms.tier}`, product: 'vps-starter', region: 'par1', image: 'debian-12' },
        });
        projects.push({
          tier: terms.tier,
          credit: terms.credit,
          client,
          token: made.secret,
          projectId: made.project_id,
          serverId: server.id,
        });
      }
      for (const p of projects)
        await until(
          `${p.serverId} running`,
          async () => (await p.client.call(getServer, { params: { id: p.serverId } })).server.status === 'running',
        );

      // Ten days later the host's agent goes silent; housekeeping marks it down.
      clock.advanceMs(10 * 86_400_000);
      await host.pause();
      clock.advanceMs(2 * hostDownAfterMs);
      outageStart = clock.nowMs();
      await t.cp.housekeeping();
      for (const p of projects)
        await until(
          `${p.serverId} unknown`,
          async () => (await p.client.call(getServer, { params: { id: p.serverId } })).server.status === 'unknown',
        );
      // Exactly three hours later it is back: the servers run again at that instant of the clock.
      clock.advanceMs(outageMs);
      host.resume();
      for (const p of projects)
        await until(
          `${p.serverId} running again`,
          async () => (await p.client.call(getServer, { params: { id: p.serverId } })).server.status === 'running',
        );
      // The metering consumer has seen the end of the outage (an open interval would run to the clock's now).
      clock.advanceMs(60_000);
      for (const p of projects)
        await until('downtime metered', async () => {
          const report = await p.client.call(getSlaReport, { query: { month: '2026-04' } });
          const ended = new Date(outageStart + outageMs).toISOString();
          return report.servers[0]?.downtime.length === 1 && report.servers[0].downtime[0]!.to === ended
            ? report
            : null;
        });
      clock.advanceMs(Date.UTC(2026, 4, 1, 0, 0, 1) - clock.nowMs());
    });
    after(async () => {
      await host?.stop().catch(() => {});
      await t?.dispose();
    });

    test('the SLA report shows one 180-minute host_down interval per server and the breach', async () => {
      for (const p of projects) {
        const report = await p.client.call(getSlaReport, { query: { month: '2026-04' } });
        assert.equal(report.tier, p.tier);
        assert.equal(report.servers.length, 1);
        const server = report.servers[0]!;
        assert.equal(server.downtime_minutes, 180);
        assert.deepEqual(server.downtime, [
          {
            cause: 'host_down',
            from: new Date(outageStart).toISOString(),
            to: new Date(outageStart + outageMs).toISOString(),
            minutes: 180,
          },
        ]);
        assert.equal(server.existed_minutes, 43_200);
        assert.equal(server.breached, true);
        assert.equal(server.credit_cents, p.credit);
      }
    });

    test('operators list the credits of every project (pending until invoiced); a project token is refused', async () => {
      const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
      const listed = await operator.call(listSlaCredits, { query: { month: '2026-04' } });
      assert.equal(listed.month, '2026-04');
      assert.deepEqual(
        listed.credits.map((c) => [c.project_id, c.server_id, c.tier, c.credit_cents, c.status, c.invoice]),
        [...projects]
          .sort((a, b) => b.credit - a.credit)
          .map((p) => [p.projectId, p.serverId, p.tier, p.credit, 'pending', null]),
      );
      for (const credit of listed.credits) {
        assert.equal(credit.downtime_minutes, 180);
        assert.equal(credit.region, 'par1');
        assert.equal(credit.customer, `Customer ${credit.tier}`);
        assert.ok(credit.availability_percent < 99.9, String(credit.availability_percent));
      }
      assert.equal(
        listed.total_cents,
        projects.reduce((sum, p) => sum + p.credit, 0),
      );
      const refused = await fetch(`${t.url}/v1/sla/credits`, {
        headers: { authorization: `Bearer ${projects[0]!.token}` },
      });
      assert.equal(refused.status, 403);
      // The CLI prints the same list.
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['sla', 'credits', '--month', '2026-04'], {
        stdout: { write: (c: string) => out.push(c) },
        stderr: { write: (c: string) => err.push(c) },
        env: {
          VMCLOUD_CONFIG: join(t.dataDir, 'none.json'),
          VMCLOUD_URL: t.url,
          VMCLOUD_TOKEN: t.secrets.operatorToken,
        },
        isTTY: false,
      });
      assert.equal(code, 0, err.join(''));
      for (const p of projects)
        assert.match(
          out.join(''),
          new RegExp(
            `${p.projectId} +Customer ${p.tier} +${p.serverId} +par1 +180 .* ${(p.credit / 100).toFixed(2)} +pending`,
          ),
        );
      assert.match(out.join(''), /Total 2026-04: 3\.54 EUR/);
      // No credit in a month without an outage.
      assert.deepEqual((await operator.call(listSlaCredits, { query: { month: '2026-03' } })).credits, []);
    });

    test("April's invoices: 9.99 € each, minus exactly each tier's credit, with the VAT of each customer", async () => {
      const operator = createClient({ baseUrl: t.url, token: t.secrets.operatorToken });
      const run = await operator.call(runInvoicing, { body: { month: '2026-04' } });
      assert.equal(run.invoices, 3);
      const again = await operator.call(runInvoicing, { body: { month: '2026-04' } });
      assert.deepEqual([again.invoices, again.skipped], [0, 3]);
      const numbers: string[] = [];
      for (const p of projects) {
        const { invoices } = await p.client.call(listInvoices, { query: {} });
        assert.equal(invoices.length, 1);
        const invoice = invoices[0]!;
        numbers.push(invoice.number!);
        assert.equal(invoice.status, 'issued');
        const server = invoice.lines.find((l) => l.kind === 'server')!;
        assert.equal(server.amount_cents, 999);
        assert.equal(server.capped, true);
        const surcharge = invoice.lines.find((l) => l.kind === 'sla_surcharge')?.amount_cents ?? 0;
        const credit = invoice.lines.find((l) => l.kind === 'sla_credit')!;
        assert.equal(credit.amount_cents, -p.credit);
        assert.equal(credit.downtime?.[0]?.minutes, 180);
        assert.equal(invoice.credits_cents, p.credit);
        assert.equal(invoice.subtotal_cents, 999 + surcharge - p.credit);
        const expectedVat = { standard: 2400, business: 0, enterprise: 0 }[p.tier]!;
        assert.equal(invoice.vat_cents, Math.floor(((999 + surcharge - p.credit) * expectedVat) / 10_000 + 0.5));
        assert.equal(invoice.total_cents, invoice.subtotal_cents + invoice.vat_cents);
      }
      // Invoiced now: the list names each invoice, with the invoice line's amount.
      const listed = await operator.call(listSlaCredits, { query: { month: '2026-04' } });
      for (const p of projects) {
        const credit = listed.credits.find((c) => c.server_id === p.serverId)!;
        const { invoices } = await p.client.call(listInvoices, { query: {} });
        assert.deepEqual(
          [credit.status, credit.credit_cents, credit.invoice],
          ['invoiced', p.credit, { id: invoices[0]!.id, number: invoices[0]!.number, status: 'issued' }],
        );
      }
      // Gapless numbers of one series in 2026.
      assert.deepEqual(numbers.sort(), ['VMC-2026-000001', 'VMC-2026-000002', 'VMC-2026-000003']);
    });

    test('the PDF reads back with pdftotext: number, parties, credit, VAT mention', async () => {
      const p = projects[1]!;
      const { invoices } = await p.client.call(listInvoices, { query: {} });
      const response = await fetch(`${t.url}/v1/invoices/${invoices[0]!.id}/pdf`, {
        headers: { authorization: `Bearer ${p.token}` },
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/pdf');
      const pdf = Buffer.from(await response.arrayBuffer());
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      const file = join(t.dataDir, 'invoice.pdf');
      writeFileSync(file, pdf);
      const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
      const invoice = (await p.client.call(getInvoice, { params: { id: invoices[0]!.id } })).invoice;
      assert.match(text, new RegExp(invoice.number!));
      assert.match(text, /VMCloud OÜ/);
      assert.match(text, /Customer business/);
      assert.match(text, /DE123456789/);
      assert.match(text, /Reverse charge/);
      assert.match(text, /SLA credit/);
      assert.match(text, /-1\.04/);
      assert.match(text, /host_down/);
    });
  });
}
