import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockSkewAllowanceMs } from './authority.ts';
import { createKeyAndCsr } from './csr.ts';
import { issueHostCertificate } from './issue.ts';
import { needsRenewal, renewalDueMs } from './renewal.ts';
import { testAuthority } from './test-support.ts';

test('renewal is due at two thirds of the lifetime', async (t) => {
  const cases: Array<{ name: string; notBefore: number; notAfter: number; due: number }> = [
    { name: '24 h certificate', notBefore: 0, notAfter: 86_400_000, due: 57_600_000 },
    { name: '3 s certificate', notBefore: 1000, notAfter: 4000, due: 3000 },
    { name: 'odd lifetime rounds down', notBefore: 0, notAfter: 10, due: 6 },
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.equal(renewalDueMs(c.notBefore, c.notAfter), c.due));
  }
});

test('needsRenewal on a real host certificate, before, at and after two thirds', async (t) => {
  const ca = await testAuthority();
  const nowMs = Math.floor(Date.now() / 1000) * 1000;
  const validityMs = 3 * 3600_000;
  const { certPem } = await issueHostCertificate(ca, (await createKeyAndCsr({ commonName: 'h' })).csrPem, {
    hostId: 'host_renew',
    nowMs,
    validityMs,
  });
  const notBefore = nowMs - clockSkewAllowanceMs;
  const due = renewalDueMs(notBefore, nowMs + validityMs);
  const cases: Array<{ name: string; atMs: number; expected: boolean }> = [
    { name: 'just issued', atMs: nowMs, expected: false },
    { name: 'a second before due', atMs: due - 1000, expected: false },
    { name: 'due', atMs: due, expected: true },
    { name: 'expired', atMs: nowMs + validityMs + 1000, expected: true },
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.equal(needsRenewal(certPem, c.atMs), c.expected));
  }
});
