import { VmcError } from '../../core/index.ts';

/**
 * The JSON body parser of the API: plain JSON.parse, then a walk that refuses what no field of this API
 * accepts and what would hurt further down: prototype keys (`__proto__`, `constructor.prototype`) and NUL
 * characters (PostgreSQL refuses them in text). Pure; throws `invalid` with the field's path.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new VmcError('invalid', `the body is not valid JSON: ${(error as Error).message}`, { reason: 'malformed_json' });
  }
  refuseHostile(value, '');
  return value;
}

function refuseHostile(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\0')) throw new VmcError('invalid', `${path || 'the body'} contains a NUL character`, { fields: [{ field: path || 'body', message: 'must not contain NUL characters' }] });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => refuseHostile(item, `${path}[${index}]`));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    const field = path ? `${path}.${key}` : key;
    if (key === '__proto__' || (key === 'prototype' && path.endsWith('constructor'))) {
      throw new VmcError('invalid', `the key ${field} is not allowed`, { fields: [{ field, message: 'is not allowed' }] });
    }
    if (key.includes('\0')) throw new VmcError('invalid', 'a key contains a NUL character', { fields: [{ field: 'body', message: 'keys must not contain NUL characters' }] });
    refuseHostile(item, field);
  }
}
