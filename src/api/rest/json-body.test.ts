import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonBody } from './json-body.ts';
import { VmcError } from '../../core/index.ts';

test('parseJsonBody accepts JSON and refuses prototype keys, NUL characters and bad JSON with the field', () => {
  assert.deepEqual(parseJsonBody('{"a":[1,"x"],"b":{"c":null}}'), { a: [1, 'x'], b: { c: null } });
  assert.equal(parseJsonBody(''), null);
  const table: Array<[string, string | null]> = [
    ['{"__proto__":{"admin":true}}', '__proto__'],
    ['{"a":{"constructor":{"prototype":{}}}}', 'a.constructor.prototype'],
    ['{"name":"a\\u0000b"}', 'name'],
    ['{"labels":{"k":"\\u0000"}}', 'labels.k'],
    ['{"ssh_keys":["ok","bad\\u0000"]}', 'ssh_keys[1]'],
    ['{"a":', null],
  ];
  for (const [body, field] of table) {
    assert.throws(
      () => parseJsonBody(body),
      (error: unknown) => error instanceof VmcError && error.code === 'invalid' && (field === null ? error.reason === 'malformed_json' : error.fields[0].field === field),
      body,
    );
  }
});
