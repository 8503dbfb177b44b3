import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPasswordHasher, parsePasswordHash, passwordProblem } from './password-hash.ts';

const cheap = { ln: 10, r: 8, p: 1 };

test('a hash verifies its password only, and records its cost in a PHC string', async () => {
  const hasher = createPasswordHasher({ cost: cheap });
  const stored = await hasher.hash('correct horse battery staple');
  assert.match(stored, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.deepEqual(await hasher.verify('correct horse battery staple', stored), { ok: true, needsRehash: false });
  assert.deepEqual(await hasher.verify('correct horse battery stapl', stored), { ok: false, needsRehash: false });
  assert.notEqual(await hasher.hash('correct horse battery staple'), stored, 'salted');
});

test('no stored hash (unknown user) answers false; a hash of another cost asks for a rehash', async () => {
  const hasher = createPasswordHasher({ cost: cheap });
  assert.deepEqual(await hasher.verify('anything at all', null), { ok: false, needsRehash: false });
  const older = await createPasswordHasher({ cost: { ln: 9, r: 8, p: 1 } }).hash('a long enough password');
  assert.deepEqual(await hasher.verify('a long enough password', older), { ok: true, needsRehash: true });
  assert.equal(parsePasswordHash('$2b$10$bcrypt'), null);
  assert.deepEqual(parsePasswordHash(older)?.cost, { ln: 9, r: 8, p: 1 });
});

test('the default cost is N = 2^17, r = 8, p = 1', () => {
  assert.deepEqual(createPasswordHasher().cost, { ln: 17, r: 8, p: 1 });
});

test('password rules: length, not the email, not one repeated character', () => {
  assert.match(passwordProblem('short', 'a@b.c') ?? '', /at least 12/);
  assert.match(passwordProblem('a@b.example.org', 'A@B.example.org') ?? '', /email/);
  assert.match(passwordProblem('aaaaaaaaaaaaaa', 'x@y.z') ?? '', /repeated/);
  assert.equal(passwordProblem('a perfectly fine passphrase', 'x@y.z'), null);
});
