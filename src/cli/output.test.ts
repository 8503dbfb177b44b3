import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cellText,
  formatAge,
  formatCents,
  formatDuration,
  formatMiB,
  maskToken,
  renderDetail,
  renderList,
  renderTable,
  sanitize,
  type Column,
} from './output.ts';

interface Row {
  name: string;
  vcpus: number;
  note: string | null;
}

const columns: Column<Row>[] = [
  { header: 'name', value: (r) => r.name },
  { header: 'vcpus', value: (r) => r.vcpus, align: 'right' },
  { header: 'note', value: (r) => r.note },
];

test('renderTable aligns columns, right-aligns numbers, shows - for missing, trims trailing spaces', () => {
  const text = renderTable(columns, [
    { name: 'web-1', vcpus: 2, note: 'edge' },
    { name: 'database-primary', vcpus: 16, note: null },
  ]);
  assert.equal(
    text,
    ['NAME               VCPUS   NOTE', 'web-1                  2   edge', 'database-primary      16   -', ''].join(
      '\n',
    ),
  );
});

test('renderTable with no rows prints the header only', () => {
  assert.equal(renderTable(columns, []), 'NAME   VCPUS   NOTE\n');
});

test('renderList: empty table prints the message; json and yaml print the rows', () => {
  assert.equal(renderList('table', columns, [], 'No servers found.'), 'No servers found.\n');
  assert.equal(renderList('json', columns, [], 'x'), '[]\n');
  const rows = [{ name: 'a', vcpus: 1, note: null }];
  assert.deepEqual(JSON.parse(renderList('json', columns, rows, 'x')), rows);
  assert.equal(renderList('yaml', columns, rows, 'x'), '- name: a\n  vcpus: 1\n  note: null\n');
});

test('renderDetail aligns values after the labels', () => {
  assert.equal(
    renderDetail([
      ['ID', 'srv_1'],
      ['Status', 'running'],
      ['IPv4', null],
    ]),
    'ID:      srv_1\nStatus:  running\nIPv4:    -\n',
  );
});

const cellCases: Array<[unknown, string]> = [
  [null, '-'],
  [undefined, '-'],
  ['', '-'],
  ['fra1', 'fra1'],
  [0, '0'],
  [true, 'yes'],
  [false, 'no'],
  [[], '-'],
  [['fra1', 'par1'], 'fra1,par1'],
  [{ env: 'prod', tier: 'web' }, 'env=prod,tier=web'],
  [{}, '-'],
  ['evil\u001b[31mred', 'evil\\x1b[31mred'],
];
for (const [value, expected] of cellCases) {
  test(`cellText(${JSON.stringify(value)}) = ${expected}`, () => assert.equal(cellText(value), expected));
}

test('sanitize escapes control characters only', () => {
  assert.equal(sanitize('a\nb\tc\u0007é€'), 'a\\x0ab\\x09c\\x07é€');
});

const centsCases: Array<[number | null, string | undefined, string]> = [
  [999, 'EUR', '€9.99'],
  [1, 'EUR', '€0.01'],
  [149900, 'EUR', '€1499.00'],
  [0, 'EUR', '€0.00'],
  [-250, 'EUR', '-€2.50'],
  [1234, 'CHF', '12.34 CHF'],
  [null, 'EUR', '-'],
];
for (const [cents, currency, expected] of centsCases) {
  test(`formatCents(${cents}, ${currency}) = ${expected}`, () => assert.equal(formatCents(cents, currency), expected));
}

const mibCases: Array<[number, string]> = [
  [512, '512 MiB'],
  [1024, '1 GiB'],
  [1536, '1.5 GiB'],
  [4096, '4 GiB'],
  [90112, '88 GiB'],
  [524288, '512 GiB'],
  [1048576, '1 TiB'],
];
for (const [mib, expected] of mibCases) {
  test(`formatMiB(${mib}) = ${expected}`, () => assert.equal(formatMiB(mib), expected));
}

const now = Date.parse('2025-01-02T00:00:00Z');
const ageCases: Array<[string | null, string]> = [
  ['2025-01-01T23:59:15Z', '45s'],
  ['2025-01-01T23:48:00Z', '12m'],
  ['2025-01-01T05:00:00Z', '19h'],
  ['2024-12-30T00:00:00Z', '3d'],
  ['2025-01-03T00:00:00Z', '0s'],
  ['not a date', '-'],
  [null, '-'],
];
for (const [iso, expected] of ageCases) {
  test(`formatAge(${iso}) = ${expected}`, () => assert.equal(formatAge(iso, now), expected));
}

test('formatDuration', () => {
  assert.equal(formatDuration(3240), '3.2s');
  assert.equal(formatDuration(65_000), '1m05s');
});

test('maskToken never shows the middle of a token', () => {
  assert.equal(maskToken('vmc_0123456789abcdefghij'), 'vmc_0123…ghij');
  assert.equal(maskToken('short'), '****');
  assert.equal(maskToken(undefined), '-');
});
