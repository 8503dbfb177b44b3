import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrometheus, type MetricFamily } from './prometheus.ts';

const cases: Array<[string, MetricFamily[], string]> = [
  ['nothing', [], ''],
  [
    'a gauge with labels, sorted by name, values as numbers',
    [
      {
        name: 'vmcloud_servers',
        help: 'Servers by status.',
        type: 'gauge',
        samples: [
          { labels: { status: 'running', region: 'fra1' }, value: 3 },
          { labels: { status: 'error', region: 'fra1' }, value: 0 },
        ],
      },
    ],
    '# HELP vmcloud_servers Servers by status.\n# TYPE vmcloud_servers gauge\nvmcloud_servers{region="fra1",status="running"} 3\nvmcloud_servers{region="fra1",status="error"} 0\n',
  ],
  [
    'a counter without labels; quotes, backslashes and newlines escaped',
    [
      {
        name: 'vmcloud_x_total',
        help: 'line one\nline \\ two',
        type: 'counter',
        samples: [
          { labels: {}, value: 7 },
          { labels: { code: 'a"b\\c\nd' }, value: 1 },
        ],
      },
    ],
    '# HELP vmcloud_x_total line one\\nline \\\\ two\n# TYPE vmcloud_x_total counter\nvmcloud_x_total 7\nvmcloud_x_total{code="a\\"b\\\\c\\nd"} 1\n',
  ],
];

for (const [name, families, expected] of cases) {
  test(`prometheus text: ${name}`, () => assert.equal(formatPrometheus(families), expected));
}
