import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, matchesSelector, validateLabels, isValidLabelKey } from './labels.ts';
import { VmcError } from '../core/index.ts';

test('label keys', () => {
  const table: Array<[string, boolean]> = [
    ['env', true],
    ['app.kubernetes.io/name', true],
    ['a', true],
    ['-bad', false],
    ['', false],
    ['x'.repeat(64), false],
    ['UPPER/ok', false],
    ['has space', false],
  ];
  for (const [key, ok] of table) assert.equal(isValidLabelKey(key), ok, key);
});

test('selectors parse and match', () => {
  const labels = { env: 'prod', tier: 'web', region: 'fra1' };
  const table: Array<[string, boolean]> = [
    ['env=prod', true],
    ['env==prod', true],
    ['env=dev', false],
    ['env!=dev', true],
    ['tier in (web, api)', true],
    ['tier notin (web)', false],
    ['env=prod,tier=web', true],
    ['env=prod,tier=db', false],
    ['legacy', false],
    ['!legacy', true],
    ['region', true],
    ['region in (par1,fra1),!legacy', true],
  ];
  for (const [selector, expected] of table)
    assert.equal(matchesSelector(labels, parseSelector(selector)), expected, selector);
});

test('bad selectors and labels are refused with field details', () => {
  for (const bad of ['env=', '=x', 'a b', 'env in prod', 'env=(x)', '!!x']) {
    if (bad === 'env=') {
      assert.deepEqual(parseSelector(bad), [{ key: 'env', op: 'eq', value: '' }]);
      continue;
    }
    assert.throws(
      () => parseSelector(bad),
      (e: unknown) => e instanceof VmcError && e.code === 'invalid',
      bad,
    );
  }
  assert.throws(
    () => validateLabels({ 'bad key': 'x' }),
    (e: unknown) => e instanceof VmcError && e.fields[0].field === 'labels.bad key',
  );
  assert.throws(() => validateLabels({ ok: 5 }), VmcError);
  assert.throws(() => validateLabels(['x']), VmcError);
  assert.deepEqual(validateLabels({ env: 'prod', empty: '' }), { env: 'prod', empty: '' });
});
