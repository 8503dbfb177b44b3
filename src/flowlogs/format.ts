/**
 * Flow records: the shape the domain passes around, day partitioning of time, and the two export formats —
 * JSON lines (the API's record as is) and an IPFIX-like CSV whose header uses IANA IPFIX information
 * element names (RFC 7012). Pure.
 */
import type { FlowRecord } from '../contract/index.ts';

export interface FlowInput {
  serverId: string;
  projectId: string;
  direction: 'in' | 'out';
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  packets: number;
  bytes: number;
  startMs: number;
  endMs: number;
  action: 'accept' | 'drop';
  rule: string | null;
}

export const dayMs = 86_400_000;

/** `2026-11-30` of an instant (UTC). */
export const dayOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 10);

/** The table that holds a day's flows: `flow_logs_20261130`. */
export function dayTable(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`not a day: ${day}`);
  return `flow_logs_${day.replace(/-/g, '')}`;
}

/** The days of [fromMs, toMs), oldest first. */
export function daysOf(fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  for (let d = Math.floor(fromMs / dayMs) * dayMs; d < toMs; d += dayMs) out.push(dayOf(d));
  return out;
}

export const wireOf = (f: FlowInput): FlowRecord => ({
  server_id: f.serverId,
  direction: f.direction,
  src_addr: f.srcAddr,
  dst_addr: f.dstAddr,
  src_port: f.srcPort,
  dst_port: f.dstPort,
  protocol: f.protocol,
  packets: f.packets,
  bytes: f.bytes,
  start: new Date(f.startMs).toISOString(),
  end: new Date(f.endMs).toISOString(),
  action: f.action,
  rule: f.rule,
});

/** The CSV header: IPFIX element names, then VMCloud's own columns. */
export const csvHeader = [
  'flowStartMilliseconds',
  'flowEndMilliseconds',
  'sourceIPAddress',
  'destinationIPAddress',
  'sourceTransportPort',
  'destinationTransportPort',
  'protocolIdentifier',
  'packetDeltaCount',
  'octetDeltaCount',
  'flowDirection',
  'firewallEvent',
  'vmcloudRule',
  'vmcloudServerId',
].join(',');

const csvField = (value: string | number | null) => {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One CSV line (no newline). flowDirection: 0 ingress, 1 egress; firewallEvent: 1 accepted, 2 dropped (IANA). */
export function csvLine(r: FlowRecord): string {
  return [
    Date.parse(r.start),
    Date.parse(r.end),
    r.src_addr,
    r.dst_addr,
    r.src_port,
    r.dst_port,
    r.protocol,
    r.packets,
    r.bytes,
    r.direction === 'in' ? 0 : 1,
    r.action === 'accept' ? 1 : 2,
    r.rule,
    r.server_id,
  ]
    .map(csvField)
    .join(',');
}

export const jsonLine = (r: FlowRecord) => JSON.stringify(r);
