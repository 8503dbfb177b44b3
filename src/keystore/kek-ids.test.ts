import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../core/ids.ts';
import { idTimeMs, newestKekId, nextKekId } from './kek-ids.ts';

test('idTimeMs reads back the time a time-ordered id was made at', () => {
  const at = Date.UTC(2026, 4, 1, 12, 30);
  assert.equal(idTimeMs(newId('kek', at)), at);
});

test('nextKekId sorts after every existing id', async (t) => {
  const now = Date.UTC(2026, 0, 1);
  const cases: Array<{ name: string; existing: string[] }> = [
    { name: 'no keys yet', existing: [] },
    { name: 'older keys', existing: [newId('kek', now - 1000), newId('kek', now - 10)] },
    { name: 'a key made the same millisecond', existing: [newId('kek', now)] },
    { name: 'a key from a clock ahead by an hour', existing: [newId('kek', now + 3_600_000)] },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      for (let i = 0; i < 50; i++) {
        const next = nextKekId(c.existing, now);
        assert.match(next, /^kek_[0-9a-z]{26}$/);
        for (const id of c.existing) assert.ok(next > id, `${next} > ${id}`);
        assert.equal(newestKekId([...c.existing, next]), next);
      }
    });
  }
});
