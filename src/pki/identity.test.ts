import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { hostIdOfCertificate, isControlPlaneCertificate, serialOfCertificate } from './identity.ts';
import { normalizeSerial } from './serial.ts';

const peer = (subjectaltname: string | undefined, serialNumber = '4A01') =>
  ({ subjectaltname, serialNumber }) as unknown as PeerCertificate;

test('hostIdOfCertificate reads exactly one well-formed host URI', async (t) => {
  const cases: Array<{ name: string; san: string | undefined; hostId: string | null; controlPlane: boolean }> = [
    { name: 'one host URI', san: 'URI:urn:vmcloud:host:host_01jabc', hostId: 'host_01jabc', controlPlane: false },
    {
      name: 'with DNS names',
      san: 'DNS:h1.example, URI:urn:vmcloud:host:host_7',
      hostId: 'host_7',
      controlPlane: false,
    },
    {
      name: 'two host URIs',
      san: 'URI:urn:vmcloud:host:host_a, URI:urn:vmcloud:host:host_b',
      hostId: null,
      controlPlane: false,
    },
    { name: 'no SAN', san: undefined, hostId: null, controlPlane: false },
    { name: 'another id kind', san: 'URI:urn:vmcloud:host:srv_1', hostId: null, controlPlane: false },
    { name: 'quoted by node', san: 'URI:"urn:vmcloud:host:host_a, x"', hostId: null, controlPlane: false },
    { name: 'control plane', san: 'URI:urn:vmcloud:control-plane', hostId: null, controlPlane: true },
    {
      name: 'control plane and host at once',
      san: 'URI:urn:vmcloud:control-plane, URI:urn:vmcloud:host:host_a',
      hostId: 'host_a',
      controlPlane: false,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.equal(hostIdOfCertificate(peer(c.san)), c.hostId);
      assert.equal(isControlPlaneCertificate(peer(c.san)), c.controlPlane);
    });
  }
});

test('hostIdOfCertificate of something that is not a certificate is null', () => {
  assert.equal(hostIdOfCertificate('not a pem'), null);
});

test('serials compare in one normalized form', async (t) => {
  const cases: Array<{ input: string; normalized: string }> = [
    { input: '4A01BC', normalized: '4a01bc' },
    { input: '004a01', normalized: '4a01' },
    { input: '4a:01:bc', normalized: '4a01bc' },
    { input: '0', normalized: '0' },
  ];
  for (const c of cases) {
    await t.test(c.input, () => assert.equal(normalizeSerial(c.input), c.normalized));
  }
  assert.equal(serialOfCertificate(peer(undefined, '00FF')), 'ff');
});
