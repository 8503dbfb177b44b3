import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { parsePublicKey } from './public-key.ts';
import { isValidSshPublicKey } from '../compute/index.ts';

const sshKeygen = ['/usr/bin/ssh-keygen', '/bin/ssh-keygen'].find((p) => existsSync(p)) ?? null;

const wireString = (bytes: Buffer | string) => {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(b.length);
  return Buffer.concat([length, b]);
};
const mpint = (b: Buffer) => wireString(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
const line = (type: string, blob: Buffer, comment = '') => `${type} ${blob.toString('base64')}${comment}`;

/** OpenSSH encodings of keys node:crypto makes (used when ssh-keygen is missing, and for the odd ones). */
function nodeKey(kind: 'ed25519' | 'rsa' | 'ec', option?: number | string): string {
  if (kind === 'ed25519') {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    return line('ssh-ed25519', Buffer.concat([wireString('ssh-ed25519'), wireString(raw)]));
  }
  if (kind === 'rsa') {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: option as number });
    const jwk = publicKey.export({ format: 'jwk' });
    const blob = Buffer.concat([
      wireString('ssh-rsa'),
      mpint(Buffer.from(jwk.e!, 'base64url')),
      mpint(Buffer.from(jwk.n!, 'base64url')),
    ]);
    return line('ssh-rsa', blob);
  }
  const curve = option as 'P-256' | 'P-384' | 'P-521';
  const name = { 'P-256': 'nistp256', 'P-384': 'nistp384', 'P-521': 'nistp521' }[curve];
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return line(
    `ecdsa-sha2-${name}`,
    Buffer.concat([wireString(`ecdsa-sha2-${name}`), wireString(name), wireString(point)]),
  );
}

interface Generated {
  publicKey: string;
  /** What ssh-keygen -l -E sha256 prints (null without ssh-keygen). */
  fingerprint: string | null;
  privateKey: string | null;
}

function generate(type: 'ed25519' | 'rsa' | 'ecdsa' | 'dsa', bits?: number): Generated | null {
  if (!sshKeygen) {
    if (type === 'dsa') return null;
    const publicKey =
      type === 'ed25519'
        ? nodeKey('ed25519')
        : type === 'rsa'
          ? nodeKey('rsa', bits)
          : nodeKey('ec', { 256: 'P-256', 384: 'P-384', 521: 'P-521' }[bits ?? 256]);
    return { publicKey: `${publicKey} test@vmcloud`, fingerprint: null, privateKey: null };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sshkey-'));
  try {
    const file = join(dir, 'id');
    try {
      execFileSync(
        sshKeygen,
        ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'test@vmcloud', '-f', file],
        { stdio: 'pipe' },
      );
    } catch {
      return null; // e.g. DSA removed from this OpenSSH, or a size it refuses to make
    }
    const fingerprint = execFileSync(sshKeygen, ['-l', '-E', 'sha256', '-f', `${file}.pub`])
      .toString()
      .split(' ')[1];
    return {
      publicKey: readFileSync(`${file}.pub`, 'utf8').trim(),
      fingerprint,
      privateKey: readFileSync(file, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const accepted: Array<{ name: string; type: string; bits: number; make: () => Generated | null }> = [
  { name: 'ed25519', type: 'ssh-ed25519', bits: 256, make: () => generate('ed25519') },
  { name: 'rsa 2048', type: 'ssh-rsa', bits: 2048, make: () => generate('rsa', 2048) },
  { name: 'rsa 3072', type: 'ssh-rsa', bits: 3072, make: () => generate('rsa', 3072) },
  { name: 'ecdsa p-256', type: 'ecdsa-sha2-nistp256', bits: 256, make: () => generate('ecdsa', 256) },
  { name: 'ecdsa p-384', type: 'ecdsa-sha2-nistp384', bits: 384, make: () => generate('ecdsa', 384) },
  { name: 'ecdsa p-521', type: 'ecdsa-sha2-nistp521', bits: 521, make: () => generate('ecdsa', 521) },
];

for (const row of accepted)
  test(`parsePublicKey accepts ${row.name}, with ssh-keygen's fingerprint`, () => {
    const key = row.make();
    assert.ok(key, `made a ${row.name} key`);
    const parsed = parsePublicKey(`  ${key.publicKey}\n`);
    assert.equal(parsed.ok, true, JSON.stringify(parsed));
    if (!parsed.ok) return;
    assert.equal(parsed.type, row.type);
    assert.equal(parsed.bits, row.bits);
    assert.match(parsed.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    if (key.fingerprint) assert.equal(parsed.fingerprint, key.fingerprint);
    assert.equal(parsed.publicKey, key.publicKey);
    assert.equal(parsed.comment, 'test@vmcloud');
    // what it saves is what servers take inline
    assert.equal(isValidSshPublicKey(parsed.publicKey), true);
  });

test('parsePublicKey: node-encoded keys agree with ssh-keygen on the fingerprint', { skip: !sshKeygen }, () => {
  for (const publicKey of [nodeKey('ed25519'), nodeKey('rsa', 2048), nodeKey('ec', 'P-384')]) {
    const parsed = parsePublicKey(publicKey);
    assert.equal(parsed.ok, true);
    const dir = mkdtempSync(join(tmpdir(), 'sshkey-'));
    try {
      const file = join(dir, 'k.pub');
      execFileSync('sh', ['-c', `cat > ${file}`], { input: publicKey });
      const printed = execFileSync(sshKeygen!, ['-l', '-E', 'sha256', '-f', file]).toString().split(' ')[1];
      assert.equal(parsed.ok && parsed.fingerprint, printed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('parsePublicKey refuses what is not a usable public key, with a stable reason', () => {
  const ed = nodeKey('ed25519');
  const edBlob = Buffer.from(ed.split(' ')[1], 'base64');
  const rsa1024 = nodeKey('rsa', 1024);
  const ec256 = nodeKey('ec', 'P-256');
  const ecBlob = Buffer.from(ec256.split(' ')[1], 'base64');
  const privateKey = generate('ed25519')?.privateKey ?? '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n';
  const dsa =
    generate('dsa')?.publicKey ??
    line('ssh-dss', Buffer.concat([wireString('ssh-dss'), ...[1, 2, 3, 4].map(() => mpint(Buffer.alloc(20, 7)))]));
  const rows: Array<[string, string, 'invalid_public_key' | 'weak_key', RegExp?]> = [
    ['empty', '   ', 'invalid_public_key'],
    ['garbage', 'hello world', 'invalid_public_key'],
    ['one word', 'ssh-ed25519', 'invalid_public_key'],
    ['a private key', privateKey, 'invalid_public_key', /private key/],
    [
      'a PEM public key',
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----',
      'invalid_public_key',
    ],
    ['DSA', dsa, 'invalid_public_key', /DSA/],
    ['RSA 1024', rsa1024, 'weak_key', /2048/],
    ['not base64', 'ssh-ed25519 AAAA$$$$', 'invalid_public_key', /base64/],
    ['base64 of the wrong length', `ssh-ed25519 ${ed.split(' ')[1].slice(0, -1)}`, 'invalid_public_key'],
    ['type and blob disagree', `ssh-rsa ${ed.split(' ')[1]}`, 'invalid_public_key', /does not name ssh-rsa/],
    ['unknown type', `ssh-foo ${ed.split(' ')[1]}`, 'invalid_public_key', /not accepted/],
    ['truncated blob', line('ssh-ed25519', edBlob.subarray(0, 30)), 'invalid_public_key'],
    ['trailing bytes', line('ssh-ed25519', Buffer.concat([edBlob, Buffer.from([0])])), 'invalid_public_key'],
    [
      'ed25519 point of 31 bytes',
      line('ssh-ed25519', Buffer.concat([wireString('ssh-ed25519'), wireString(Buffer.alloc(31, 1))])),
      'invalid_public_key',
    ],
    [
      'ecdsa with another curve inside',
      line(
        'ecdsa-sha2-nistp384',
        Buffer.concat([wireString('ecdsa-sha2-nistp384'), ecBlob.subarray(4 + 'ecdsa-sha2-nistp256'.length)]),
      ),
      'invalid_public_key',
      /curve/,
    ],
    ['two keys on two lines', `${ed}\n${ed}`, 'invalid_public_key', /one line/],
    ['a line separator in the comment', `${ed} me\u2028ssh-ed25519 AAAA`, 'invalid_public_key'],
    ['a sk key', `sk-ssh-ed25519@openssh.com ${ed.split(' ')[1]}`, 'invalid_public_key'],
  ];
  for (const [name, input, reason, message] of rows) {
    const parsed = parsePublicKey(input);
    assert.equal(parsed.ok, false, `${name} refused`);
    if (parsed.ok) continue;
    assert.equal(parsed.reason, reason, name);
    if (message) assert.match(parsed.message, message, name);
  }
});

test('parsePublicKey normalizes spacing and keeps the comment', () => {
  const ed = nodeKey('ed25519');
  const [type, blob] = ed.split(' ');
  const parsed = parsePublicKey(`${type}   ${blob}   my laptop  `);
  assert.ok(parsed.ok);
  assert.equal(parsed.publicKey, `${type} ${blob} my laptop`);
  assert.equal(parsed.comment, 'my laptop');
  const bare = parsePublicKey(ed);
  assert.ok(bare.ok);
  assert.equal(bare.comment, null);
  assert.equal(bare.publicKey, ed);
  assert.equal(bare.fingerprint, parsed.fingerprint);
});
