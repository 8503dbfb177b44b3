import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressDisplay, formatPlainLine, formatProgressLine, progressBar } from './progress.ts';
import type { Action } from '../contract/index.ts';

const barCases: Array<[number, string]> = [
  [0, '[----------]'],
  [50, '[#####-----]'],
  [100, '[##########]'],
  [140, '[##########]'],
  [-5, '[----------]'],
  [Number.NaN, '[----------]'],
];
for (const [percent, expected] of barCases) {
  test(`progressBar(${percent}) = ${expected}`, () => assert.equal(progressBar(percent, 10), expected));
}

const lineCases: Array<[Pick<Action, 'status' | 'progress'>, number, number | undefined, string]> = [
  [{ status: 'running', progress: 0 }, 0, 0, '| create web-1  [--------------------]   0%  running  0.0s'],
  [{ status: 'running', progress: 40 }, 3200, 1, '/ create web-1  [########------------]  40%  running  3.2s'],
  [{ status: 'success', progress: 100 }, 4000, undefined, 'create web-1  [####################] 100%  success  4.0s'],
  [{ status: 'error', progress: 60 }, 61_000, undefined, 'create web-1  [############--------]  60%  error  1m01s'],
];
for (const [action, elapsed, tick, expected] of lineCases) {
  test(`formatProgressLine ${action.status} ${action.progress}%`, () =>
    assert.equal(formatProgressLine(action, 'create web-1', elapsed, tick), expected));
}

test('formatPlainLine', () => {
  assert.equal(formatPlainLine({ status: 'running', progress: 33.4 }, 'stop db'), 'stop db: running 33%');
});

const action = (status: Action['status'], progress: number): Action => ({
  id: 'act_1',
  command: 'create',
  status,
  progress,
  resource: { type: 'server', id: 'srv_1' },
  error: null,
  started_at: '2025-01-01T00:00:00Z',
  finished_at: null,
});

test('plain display prints one line per change, never carriage returns', () => {
  const out: string[] = [];
  const display = createProgressDisplay({ write: (s: string) => out.push(s) }, false, 'create web-1');
  display.update(action('running', 0), 0);
  display.update(action('running', 0), 500);
  display.update(action('running', 50), 1000);
  display.finish(action('success', 100), 1500);
  assert.equal(
    out.join(''),
    'create web-1: running 0%\ncreate web-1: running 50%\ncreate web-1: success 100%\ncreate web-1: done in 1.5s\n',
  );
});

test('terminal display redraws one line in place and ends it with a newline', () => {
  const out: string[] = [];
  const display = createProgressDisplay({ write: (s: string) => out.push(s) }, true, 'create web-1');
  display.update(action('running', 50), 1000);
  display.finish(action('success', 100), 2000);
  assert.ok(out.every((chunk) => chunk.startsWith('\r\x1b[2K')));
  assert.ok(out[0].includes(' 50%  running'));
  assert.ok(out[1].endsWith('100%  success  2.0s\n'));
});
