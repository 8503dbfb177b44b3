import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Invoice } from '../contract/index.ts';
import { renderInvoicePdf } from './invoice-pdf.ts';

const invoice: Invoice = {
  id: 'inv_01',
  kind: 'invoice',
  number: 'VMC-2026-000042',
  status: 'issued',
  project_id: 'prj_01',
  period: '2026-03',
  refers_to: null,
  currency: 'EUR',
  supplier: { name: 'VMCloud SAS', address: '1 rue de la Paix, Paris', country: 'FR', vat_id: 'FR00123456789' },
  customer: { name: 'Acme GmbH', address: 'Hauptstr. 1, Berlin', country: 'DE', vat_id: 'DE123456789' },
  vat: { treatment: 'reverse_charge', rate_percent: 0, country: 'DE', mention: 'Autoliquidation' },
  lines: [
    {
      kind: 'server',
      resource_id: 'srv_01',
      item: 'VPS-STARTER',
      region: 'fra1',
      description: 'web-1',
      quantity: 1,
      hours: 744,
      gpu_hours: null,
      unit_micros: 6000,
      capped: true,
      amount_cents: 399,
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
    },
  ],
  subtotal_cents: 399,
  vat_cents: 0,
  total_cents: 399,
  credits_cents: 0,
  payment: { provider: 'bank_transfer', reference: 'VMC-2026-000042', instructions: 'IBAN FR76 …' },
  issued_at: '2026-04-01T00:00:05.000Z',
  paid_at: null,
  voided_at: null,
  created_at: '2026-04-01T00:00:00.000Z',
};

test('an invoice renders to the same PDF bytes whenever it is downloaded (its dates, not the clock)', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-04-02T10:00:00Z') });
  const first = await renderInvoicePdf(invoice);
  t.mock.timers.tick(3_600_000);
  const later = await renderInvoicePdf(invoice);
  assert.equal(Buffer.from(first).subarray(0, 5).toString('latin1'), '%PDF-');
  assert.equal(Buffer.compare(Buffer.from(first), Buffer.from(later)), 0);
  // Another invoice (another number) is another document.
  const other = await renderInvoicePdf({ ...invoice, number: 'VMC-2026-000043' });
  assert.notEqual(Buffer.compare(Buffer.from(first), Buffer.from(other)), 0);
});
