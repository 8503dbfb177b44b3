/** When a certificate should be renewed: once two thirds of its lifetime have passed (or it has expired). */
import { parseCertificate } from './fingerprint.ts';

export function renewalDueMs(notBeforeMs: number, notAfterMs: number): number {
  return notBeforeMs + Math.floor(((notAfterMs - notBeforeMs) * 2) / 3);
}

export function needsRenewal(certPem: string, nowMs: number): boolean {
  const cert = parseCertificate(certPem);
  return nowMs >= renewalDueMs(cert.validFromDate.getTime(), cert.validToDate.getTime());
}
