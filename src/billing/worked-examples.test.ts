/**
 * The worked examples of docs/billing.md, computed by the code that bills: a VPS-STARTER running 10 days,
 * one stopped all month, a GPU-A100 with a 3-hour outage on Enterprise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultProducts } from '../catalog/index.ts';
import { projectMonth } from './project-month.ts';
import { productPriceVersion, sumCents, type UsageInterval } from './rating.ts';
import { monthRange } from './months.ts';
import { buildDocument } from './invoice-document.ts';
import { decideVat } from './vat.ts';

const old = Date.UTC(2025, 0, 1);
const prices = defaultProducts.map((p) => productPriceVersion(p.code, p.priceHourlyCents, p.priceMonthlyCents, old));
const products = new Map(
  defaultProducts.map((p) => [p.code, { name: p.name, trafficTiB: p.trafficTiB, gpuCount: p.gpuCount }]),
);
const server = (id: string, product: string, startMs: number, endMs: number | null): UsageInterval => ({
  kind: 'server',
  resourceId: id,
  item: `product:${product}`,
  region: 'par1',
  quantityMilli: 1000,
  startMs,
  endMs,
});
const invoice = (lines: ReturnType<typeof projectMonth>['lines'], country: string, date: string) =>
  buildDocument({
    supplier: { name: 'VMCloud OÜ', address: '', country: 'EE', vat_id: 'EE102345678' },
    customer: { name: 'c', address: '', country, vat_id: null },
    vat: decideVat({ supplierCountry: 'EE', customerCountry: country, customerVatId: null, supplyDate: date }),
    lines,
    payment: { provider: '', reference: '', instructions: '' },
  });
const base = { downtime: [], maintenance: new Map(), prices, products, traffic: null, ddosTier: null } as const;

test('worked example 1: a VPS-STARTER running 10 days of March: 240 h × 0.02 € = 4.80 €; German consumer 19 % VAT', () => {
  const march = monthRange('2026-03');
  const { lines } = projectMonth({
    ...base,
    range: march,
    untilMs: march.endMs,
    intervals: [server('srv_1', 'vps-starter', Date.UTC(2026, 2, 5, 9, 30), Date.UTC(2026, 2, 15, 9, 30))],
    slaTier: 'standard',
  });
  assert.deepEqual(
    lines.map((l) => [l.hours, l.amount_cents]),
    [[240, 480]],
  );
  const doc = invoice(lines, 'DE', '2026-03-31');
  assert.deepEqual([doc.subtotal_cents, doc.vat_cents, doc.total_cents], [480, 91, 571]);
});

test('worked example 2: a VPS-STARTER stopped all March still bills: 744 h × 0.02 € = 14.88 € capped at 9.99 €', () => {
  const march = monthRange('2026-03');
  const { lines } = projectMonth({
    ...base,
    range: march,
    untilMs: march.endMs,
    intervals: [server('srv_2', 'vps-starter', Date.UTC(2026, 1, 10), null)],
    slaTier: 'standard',
  });
  assert.deepEqual(
    lines.map((l) => [l.hours, l.amount_cents, l.capped]),
    [[744, 999, true]],
  );
  const doc = invoice(lines, 'EE', '2026-03-31');
  assert.deepEqual([doc.subtotal_cents, doc.vat_cents, doc.total_cents], [999, 240, 1239]);
});

test('worked example 3: a GPU-A100 all April on Enterprise with a 3-hour outage: 312.29 € credited', () => {
  const april = monthRange('2026-04');
  const outage = Date.UTC(2026, 3, 14, 2, 0);
  const { lines, sla } = projectMonth({
    ...base,
    range: april,
    untilMs: april.endMs,
    intervals: [server('srv_3', 'gpu-a100', Date.UTC(2026, 2, 1), null)],
    downtime: [
      {
        serverId: 'srv_3',
        cause: 'host_down',
        startMs: outage,
        endMs: outage + 3 * 3_600_000,
        hostId: 'host_1',
        region: 'par1',
      },
    ],
    slaTier: 'enterprise',
  });
  assert.deepEqual(
    lines.map((l) => [l.kind, l.amount_cents]),
    [
      ['server', 149900],
      ['sla_surcharge', 74950],
      ['sla_credit', -31229],
    ],
  );
  assert.equal(lines[0]!.gpu_hours, 720);
  assert.equal(sla.servers[0]!.availability_percent, 99.583);
  const doc = invoice(lines, 'EE', '2026-04-30');
  assert.equal(sumCents(lines), 193621);
  assert.deepEqual(
    [doc.subtotal_cents, doc.vat_cents, doc.total_cents, doc.credits_cents],
    [193621, 46469, 240090, 31229],
  );
});
