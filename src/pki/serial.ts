/**
 * Certificate serial numbers: 128 random bits, positive, never a leading zero, written as lower-case hex.
 * Node prints serials upper-case (PeerCertificate.serialNumber): normalizeSerial makes both comparable.
 */
import { randomBytes } from 'node:crypto';

export function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return bytes.toString('hex');
}

export function normalizeSerial(serial: string): string {
  return serial
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '')
    .replace(/^0+(?=.)/, '');
}
