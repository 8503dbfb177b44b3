import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvHeader, csvLine, dayOf, daysOf, dayTable, jsonLine, wireOf, type FlowInput } from './format.ts';

const flow: FlowInput = {
  serverId: 'srv_1',
  projectId: 'prj_1',
  direction: 'in',
  srcAddr: '198.51.100.7',
  dstAddr: '10.12.0.5',
  srcPort: 51234,
  dstPort: 443,
  protocol: 6,
  packets: 12,
  bytes: 4096,
  startMs: Date.UTC(2026, 10, 30, 23, 59, 58),
  endMs: Date.UTC(2026, 11, 1, 0, 0, 3),
  action: 'drop',
  rule: 'fw: deny "all", please',
};

test('days and their tables', () => {
  assert.equal(dayOf(flow.startMs), '2026-11-30');
  assert.equal(dayTable('2026-11-30'), 'flow_logs_20261130');
  assert.throws(() => dayTable('2026-11-30; drop table x'), RangeError);
  assert.deepEqual(daysOf(flow.startMs, flow.endMs), ['2026-11-30', '2026-12-01']);
  assert.deepEqual(daysOf(Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 2)), ['2026-11-01']);
});

test('exports: JSON lines as the API record, CSV with IPFIX names and quoting', () => {
  const record = wireOf(flow);
  assert.deepEqual(JSON.parse(jsonLine(record)), record);
  assert.equal(record.start, '2026-11-30T23:59:58.000Z');
  assert.match(csvHeader, /^flowStartMilliseconds,flowEndMilliseconds,sourceIPAddress,/);
  const line = csvLine(record);
  assert.equal(
    line,
    `${flow.startMs},${flow.endMs},198.51.100.7,10.12.0.5,51234,443,6,12,4096,0,2,"fw: deny ""all"", please",srv_1`,
  );
  assert.equal(csvHeader.split(',').length, 13);
});
