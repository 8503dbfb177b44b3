/**
 * Billing through the API and the CLI on a manual clock (March 2026): billing details (a malformed VAT ID
 * is refused and changes nothing), usage so far and projected, versioned prices (never in the past, one
 * per date), April's run invoicing March, the invoice as JSON and PDF (`vmcloud invoice download`, read
 * back by pdftotext), paid / void with a credit note, a credit note that would exceed the invoice refused,
 * revenue and unpaid invoices, budget alerts as events.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createManualClock } from '../src/core/index.ts';
import { runCli, saveProfile, type CliIo } from '../src/cli/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`billing: accounts, usage, prices, invoices (${dialect})`, () => {
    const clock = createManualClock(Date.UTC(2026, 2, 1, 0, 0, 0));
    let t: TestControlPlane;
    let serverId = '';
    const op = { token: '' };

    async function cli(profile: 'owner' | 'operator', ...argv: string[]) {
      const env = { VMCLOUD_CONFIG: join(t.dataDir, 'cli-config.json') };
      await saveProfile({ name: 'owner', url: t.url, token: t.secrets.projectToken }, env);
      await saveProfile({ name: 'operator', url: t.url, token: t.secrets.operatorToken }, env);
      let stdout = '';
      let stderr = '';
      const io: CliIo = {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        env,
        isTTY: false,
        cwd: t.dataDir,
      };
      const code = await runCli(['--profile', profile, ...argv], io);
      return { code, stdout, stderr };
    }

    before(async () => {
      t = await startTestControlPlane(dialect, { clock, hostDownAfterMs: 365 * 86_400_000, loopIntervalMs: 3_600_000 });
      op.token = t.secrets.operatorToken;
      const created = await t.call('POST', '/v1/servers', {
        body: { name: 'web-1', product: 'vps-starter', region: 'par1', image: 'debian-12' },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      serverId = created.body.server.id;
      await t.waitForAction(created.body.action.id);
    });
    after(async () => {
      await t?.dispose();
    });

    test('billing details: a malformed VAT ID is refused (400 invalid_vat_id) and nothing changes', async () => {
      const missing = await t.call('GET', '/v1/billing/account');
      assert.equal(missing.status, 404);
      assert.equal(
        missing.body.reason ?? missing.body.code,
        missing.body.reason ? 'billing_account_missing' : 'not_found',
      );
      const bad = await t.call('PUT', '/v1/billing/account', {
        body: { name: 'ACME GmbH', address: 'Str. 1\nBerlin', country: 'DE', vat_id: 'DE12' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.reason, 'invalid_vat_id');
      assert.equal((await t.call('GET', '/v1/billing/account')).status, 404);
      const viewer = await t.call('PUT', '/v1/billing/account', {
        body: { name: 'x', address: 'y', country: 'DE' },
        token: t.secrets.operatorToken,
      });
      assert.equal(viewer.status, 403);
      const { code, stdout, stderr } = await cli(
        'owner',
        'billing',
        'account',
        'set',
        '--name',
        'ACME GmbH',
        '--address',
        'Str. 1\\nBerlin',
        '--country',
        'de',
        '--vat-id',
        'de 123 456 789',
        '--budget',
        '5',
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, /reverse_charge/);
      const account = (await t.call('GET', '/v1/billing/account')).body.account;
      assert.equal(account.vat_id, 'DE123456789');
      assert.equal(account.address, 'Str. 1\nBerlin');
      assert.equal(account.budget_cents, 500);
    });

    test('usage: ten days in, 240 h so far; projected to the cap', async () => {
      clock.advanceMs(10 * 86_400_000);
      await until('server metered', async () => (await t.call('GET', '/v1/usage')).body.so_far.lines.length > 0);
      const usage = (await t.call('GET', '/v1/usage')).body;
      assert.equal(usage.month, '2026-03');
      const line = usage.so_far.lines.find((l: { resource_id: string }) => l.resource_id === serverId);
      assert.equal(line.hours, 240);
      assert.equal(line.amount_cents, 480);
      const projected = usage.projected.lines.find((l: { resource_id: string }) => l.resource_id === serverId);
      assert.equal(projected.amount_cents, 999);
      assert.equal(projected.capped, true);
      const { code, stdout } = await cli('owner', 'billing', 'usage');
      assert.equal(code, 0);
      assert.match(stdout, /so far .*: 4\.80 EUR\s+projected month end: 9\.99 EUR/);
    });

    test('budgets: thresholds of the 5 € budget are announced once each (80 % at 4.80 €, then 100 %)', async () => {
      const billing = t.cp.services.billing;
      assert.equal(await billing.checkBudgets(), 1);
      assert.equal(await billing.checkBudgets(), 0);
      clock.advanceMs(86_400_000); // 264 h: 5.28 €
      assert.equal(await billing.checkBudgets(), 1);
      assert.equal(await billing.checkBudgets(), 0);
      // On PostgreSQL the stream shows an event once every older transaction of the cluster has ended: poll.
      const events = await until('budget events', async () => {
        const page = (await t.call('GET', '/v1/events?type=budget.threshold_reached')).body.events;
        return page.length === 2 ? page : null;
      });
      assert.deepEqual(
        events.map((e: { data: { percent: number; usage_cents: number } }) => [e.data.percent, e.data.usage_cents]),
        [
          [80, 480],
          [100, 528],
        ],
      );
    });

    test('prices: never in the past (400 price_in_past), one version per date (409), the new one applies from its date', async () => {
      const past = await t.call('POST', '/v1/prices', {
        token: op.token,
        body: {
          item: 'product:vps-starter',
          unit_micros: 30_000,
          monthly_cap_micros: 14_990_000,
          valid_from: '2026-03-01T00:00:00Z',
        },
      });
      assert.equal(past.status, 400);
      assert.equal(past.body.reason, 'price_in_past');
      const unknown = await t.call('POST', '/v1/prices', {
        token: op.token,
        body: { item: 'product:nope', unit_micros: 1, valid_from: '2027-01-01T00:00:00Z' },
      });
      assert.equal(unknown.status, 400);
      const { code, stderr } = await cli(
        'operator',
        'price',
        'set',
        'product:vps-starter',
        '--unit-micros',
        '30000',
        '--monthly-cap-micros',
        '14990000',
        '--from',
        '2026-04-01T00:00:00Z',
      );
      assert.equal(code, 0, stderr);
      const again = await t.call('POST', '/v1/prices', {
        token: op.token,
        body: { item: 'product:vps-starter', unit_micros: 40_000, valid_from: '2026-04-01T00:00:00Z' },
      });
      assert.equal(again.status, 409);
      assert.equal(again.body.reason, 'price_exists');
      const versions = (await t.call('GET', '/v1/prices?item=product:vps-starter')).body.prices;
      assert.deepEqual(
        versions.map((p: { unit_micros: number }) => p.unit_micros),
        [20_000, 30_000],
      );
    });

    test("April 1st: March is invoiced at March's prices; the PDF downloads and reads back", async () => {
      clock.advanceMs(Date.UTC(2026, 3, 1, 0, 5) - clock.nowMs());
      const early = await t.call('POST', '/v1/billing/runs', { token: op.token, body: { month: '2026-04' } });
      assert.equal(early.status, 409);
      assert.equal(early.body.reason, 'month_not_over');
      const pass = await t.cp.billingLoopOnce();
      assert.equal(pass?.invoiced, 1);
      assert.equal((await t.cp.billingLoopOnce())?.invoiced, null, 'the loop invoices a month once');
      const list = await cli('owner', 'invoice', 'list', '-o', 'json');
      const invoices = JSON.parse(list.stdout);
      assert.equal(invoices.length, 1);
      const invoice = invoices[0];
      assert.equal(invoice.number, 'VMC-2026-000001');
      assert.equal(invoice.period, '2026-03');
      assert.equal(invoice.lines[0].amount_cents, 999);
      assert.equal(invoice.vat.treatment, 'reverse_charge');
      assert.equal(invoice.vat_cents, 0);
      assert.equal(invoice.total_cents, 999);
      const download = await cli('owner', 'invoice', 'download', invoice.id, 'march.pdf');
      assert.equal(download.code, 0, download.stderr);
      const text = execFileSync('pdftotext', ['-layout', join(t.dataDir, 'march.pdf'), '-'], { encoding: 'utf8' });
      for (const expected of [
        'Invoice VMC-2026-000001',
        'ACME GmbH',
        'DE123456789',
        'EE102345678',
        'Reverse charge',
        '9.99',
        'Service period: 2026-03',
      ])
        assert.ok(text.includes(expected), `${expected} in:\n${text}`);
      const other = await t.cp.services.identity.createProject({ name: 'other', ownerEmail: 'b@example.com' });
      const hidden = await t.call('GET', `/v1/invoices/${invoice.id}`, { token: other.secret });
      assert.equal(hidden.status, 404);
    });

    test('immutable once issued: credit notes correct it (never beyond it); paid; void by a full credit note', async () => {
      const [invoice] = (await t.call('GET', '/v1/invoices')).body.invoices;
      const tooMuch = await t.call('POST', `/v1/invoices/${invoice.id}/credit-notes`, {
        token: op.token,
        body: { reason: 'goodwill', lines: [{ description: 'goodwill', amount_cents: 1000 }] },
      });
      assert.equal(tooMuch.status, 409);
      assert.equal(tooMuch.body.reason, 'credit_exceeds_invoice');
      const credit = await cli(
        'operator',
        'invoice',
        'credit-note',
        invoice.id,
        '--amount',
        '1.99',
        '--reason',
        'goodwill',
        '-o',
        'json',
      );
      assert.equal(credit.code, 0, credit.stderr);
      const note = JSON.parse(credit.stdout).credit_note;
      assert.equal(note.number, 'VMC-CN-2026-000001');
      assert.equal(note.total_cents, -199);
      assert.equal(note.refers_to, invoice.id);
      const issueAgain = await t.call('POST', `/v1/invoices/${invoice.id}/actions/issue`, {
        token: op.token,
        body: {},
      });
      assert.equal(issueAgain.status, 409);
      const unpaid = JSON.parse((await cli('operator', 'invoice', 'list', '--status', 'issued', '-o', 'json')).stdout);
      assert.deepEqual(unpaid.map((i: { kind: string }) => i.kind).sort(), ['credit_note', 'invoice']);
      const voided = await cli('operator', 'invoice', 'void', invoice.id, '--reason', 'wrong customer', '-o', 'json');
      assert.equal(voided.code, 0, voided.stderr);
      const result = JSON.parse(voided.stdout);
      assert.equal(result.invoice.status, 'void');
      assert.equal(result.credit_note.number, 'VMC-CN-2026-000002');
      const paid = await t.call('POST', `/v1/invoices/${invoice.id}/actions/mark-paid`, { token: op.token, body: {} });
      assert.equal(paid.status, 409);
      // The month can be invoiced again for this project, with the next number.
      const rerun = await t.call('POST', '/v1/billing/runs', { token: op.token, body: { month: '2026-03' } });
      assert.equal(rerun.body.invoices, 1);
      const fresh = (await t.call('GET', '/v1/invoices?status=issued')).body.invoices.find(
        (i: { kind: string }) => i.kind === 'invoice',
      );
      assert.equal(fresh.number, 'VMC-2026-000002');
      const ok = await cli('operator', 'invoice', 'mark-paid', fresh.id);
      assert.equal(ok.code, 0, ok.stderr);
      const revenue = JSON.parse(
        (await cli('operator', 'billing', 'revenue', '--month', '2026-03', '-o', 'json')).stdout,
      );
      // Issued 999, credited 199 then the remaining 800 (void), issued again 999: 999 net.
      assert.equal(result.credit_note.total_cents, -800);
      assert.equal(revenue.net_cents, 999);
      assert.equal(revenue.unpaid.invoices, 0);
    });
  });
}
