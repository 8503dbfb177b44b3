import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roleAllows, isProjectRole } from './roles.ts';

test('role order: viewer < member < owner', () => {
  const table: Array<[Parameters<typeof roleAllows>[0], Parameters<typeof roleAllows>[1], boolean]> = [
    ['viewer', 'viewer', true],
    ['viewer', 'member', false],
    ['viewer', 'owner', false],
    ['member', 'viewer', true],
    ['member', 'member', true],
    ['member', 'owner', false],
    ['owner', 'member', true],
    ['owner', 'owner', true],
  ];
  for (const [role, required, expected] of table)
    assert.equal(roleAllows(role, required), expected, `${role} ≥ ${required}`);
  assert.equal(isProjectRole('admin'), false);
  assert.equal(isProjectRole('owner'), true);
});
