import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideVat, normalizeVatId, reverseChargeMention, outsideEuMention, vatRateOn } from './vat.ts';
import { euCountries } from './vat-rates.ts';

test('the table holds the 27 member states', () => {
  assert.equal(euCountries.length, 27);
});

const cases: Array<[string, { country: string; vatId: string | null; date: string }, string, number, string | null]> = [
  ['Estonian consumer', { country: 'EE', vatId: null, date: '2026-03-31' }, 'domestic', 2400, null],
  [
    'Estonian business pays Estonian VAT too',
    { country: 'EE', vatId: 'EE123456789', date: '2026-03-31' },
    'domestic',
    2400,
    null,
  ],
  ['Estonia before the July 2025 rise', { country: 'EE', vatId: null, date: '2025-06-30' }, 'domestic', 2200, null],
  ['Estonia in 2023', { country: 'EE', vatId: null, date: '2023-12-31' }, 'domestic', 2000, null],
  ['German consumer: German rate', { country: 'DE', vatId: null, date: '2026-03-31' }, 'eu_b2c', 1900, null],
  [
    'German business: reverse charge',
    { country: 'DE', vatId: 'DE123456789', date: '2026-03-31' },
    'reverse_charge',
    0,
    reverseChargeMention,
  ],
  ['malformed German VAT ID: B2C', { country: 'DE', vatId: 'DE12345', date: '2026-03-31' }, 'eu_b2c', 1900, null],
  ['VAT ID of another state: B2C', { country: 'FR', vatId: 'DE123456789', date: '2026-03-31' }, 'eu_b2c', 2000, null],
  [
    'Greek business uses the EL prefix',
    { country: 'GR', vatId: 'EL123456789', date: '2026-03-31' },
    'reverse_charge',
    0,
    reverseChargeMention,
  ],
  ['Greek consumer', { country: 'GR', vatId: null, date: '2026-03-31' }, 'eu_b2c', 2400, null],
  ['Finnish consumer after 2024-09-01', { country: 'FI', vatId: null, date: '2024-09-30' }, 'eu_b2c', 2550, null],
  ['Finnish consumer before', { country: 'FI', vatId: null, date: '2024-08-31' }, 'eu_b2c', 2400, null],
  ['Romanian consumer after 2025-08-01', { country: 'RO', vatId: null, date: '2025-08-31' }, 'eu_b2c', 2100, null],
  ['Hungarian consumer', { country: 'HU', vatId: null, date: '2026-03-31' }, 'eu_b2c', 2700, null],
  [
    'Dutch business',
    { country: 'NL', vatId: 'NL123456789B01', date: '2026-03-31' },
    'reverse_charge',
    0,
    reverseChargeMention,
  ],
  ['Swiss customer: none', { country: 'CH', vatId: null, date: '2026-03-31' }, 'outside_eu', 0, outsideEuMention],
  ['UK business: none', { country: 'GB', vatId: 'GB123456789', date: '2026-03-31' }, 'outside_eu', 0, outsideEuMention],
  ['US consumer: none', { country: 'US', vatId: null, date: '2026-03-31' }, 'outside_eu', 0, outsideEuMention],
];

for (const [name, customer, treatment, rateBp, mention] of cases) {
  test(`VAT: ${name}`, () => {
    const decision = decideVat({
      supplierCountry: 'EE',
      customerCountry: customer.country,
      customerVatId: customer.vatId,
      supplyDate: customer.date,
    });
    assert.equal(decision.treatment, treatment);
    assert.equal(decision.rateBp, rateBp);
    assert.equal(decision.mention, mention);
  });
}

test('VAT IDs are normalized (spaces, case) and checked per state', () => {
  assert.equal(normalizeVatId('de 123 456 789', 'DE'), 'DE123456789');
  assert.equal(normalizeVatId('ATU12345678', 'AT'), 'ATU12345678');
  assert.equal(normalizeVatId('AT12345678', 'AT'), null);
  assert.equal(normalizeVatId('GR123456789', 'GR'), null);
  assert.equal(vatRateOn('LU', '2023-06-01'), 1600);
  assert.equal(vatRateOn('LU', '2024-06-01'), 1700);
  assert.equal(vatRateOn('XX', '2024-06-01'), null);
});
