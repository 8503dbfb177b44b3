import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toVmcError } from './problem.ts';

test('a failed pattern is said in the words of its schema’s description, else as the validator said it', () => {
  const table: [Record<string, unknown>, string][] = [
    [
      {
        instancePath: '/name',
        keyword: 'pattern',
        message: 'must match pattern "^[a-z]+$"',
        parentSchema: { pattern: '^[a-z]+$', description: '1–63 lowercase letters' },
      },
      'must be 1–63 lowercase letters',
    ],
    [
      { instancePath: '/name', keyword: 'pattern', message: 'must match pattern "^[a-z]+$"', parentSchema: {} },
      'must match pattern "^[a-z]+$"',
    ],
    [{ instancePath: '/size', keyword: 'minimum', message: 'must be >= 1' }, 'must be >= 1'],
    [{ instancePath: '', keyword: 'required', params: { missingProperty: 'name' } }, 'is required'],
  ];
  for (const [problem, message] of table) {
    const error = toVmcError(Object.assign(new Error('bad'), { validation: [problem], validationContext: 'body' }));
    assert.equal(error.code, 'invalid');
    assert.equal(error.fields?.[0]?.message, message);
  }
});
