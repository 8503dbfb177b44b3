import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, chainHash, genesisHash, type HashedAuditFields } from './hash.ts';

test('canonical JSON', async (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['null', null, 'null'],
    ['undefined is null', undefined, 'null'],
    ['string', 'a"b', '"a\\"b"'],
    ['number', 12, '12'],
    ['keys sorted', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['nested keys sorted', { z: { y: 1, x: [{ d: 1, c: 2 }] } }, '{"z":{"x":[{"c":2,"d":1}],"y":1}}'],
    ['undefined fields left out', { a: undefined, b: null }, '{"b":null}'],
  ];
  for (const [name, value, expected] of cases) await t.test(name, () => assert.equal(canonicalJson(value), expected));
});

const row: HashedAuditFields = {
  seq: 1,
  id: 'aud_1',
  at: '2026-01-01T00:00:00.000Z',
  project_id: 'prj_1',
  actor_user_id: 'usr_1',
  actor_token_id: 'tok_1',
  action: 'POST /v1/servers',
  resource_type: 'server',
  resource_id: 'srv_1',
  outcome: 'success',
  status_code: 202,
  request_id: 'req_1',
  source_ip: '192.0.2.1',
  user_agent: 'vmcloud-cli',
  details_json: '{}',
};

test('chain hash', async (t) => {
  const base = chainHash(genesisHash, row);
  await t.test('hex SHA-256', () => assert.match(base, /^[0-9a-f]{64}$/));
  await t.test('same row, same hash', () => assert.equal(chainHash(genesisHash, { ...row }), base));
  await t.test('depends on the previous hash', () => assert.notEqual(chainHash('1'.repeat(64), row), base));
  for (const field of Object.keys(row) as Array<keyof HashedAuditFields>) {
    await t.test(`depends on ${field}`, () => {
      const changed = { ...row, [field]: typeof row[field] === 'number' ? Number(row[field]) + 1 : `${row[field]}x` };
      assert.notEqual(chainHash(genesisHash, changed), base);
    });
  }
  await t.test('a numeric text from the database hashes as the number', () =>
    assert.equal(chainHash(genesisHash, { ...row, seq: '1' as unknown as number }), base),
  );
});
