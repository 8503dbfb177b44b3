import { test } from 'node:test';
import assert from 'node:assert/strict';
import { periodicLoop } from './periodic-loop.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('passes never overlap: ticks while a pass runs are skipped', async () => {
  let running = 0;
  let most = 0;
  let passes = 0;
  const loop = periodicLoop({
    name: 'slow',
    intervalMs: 5,
    onError: () => assert.fail('no pass fails'),
    pass: async () => {
      running++;
      most = Math.max(most, running);
      await sleep(40);
      running--;
      passes++;
    },
  });
  loop.start();
  await sleep(130);
  await loop.stop();
  assert.equal(most, 1);
  assert.ok(passes >= 1, `passes: ${passes}`);
});

test('a failed pass is reported by name and the loop goes on', async () => {
  const errors: Array<[string, unknown]> = [];
  let calls = 0;
  const loop = periodicLoop({
    name: 'flaky',
    intervalMs: 5,
    onError: (name, error) => errors.push([name, error]),
    pass: async () => {
      calls++;
      if (calls === 1) throw new Error('first pass fails');
    },
  });
  loop.start();
  await sleep(60);
  await loop.stop();
  assert.equal(errors.length, 1);
  assert.equal(errors[0][0], 'flaky');
  assert.match(String(errors[0][1]), /first pass fails/);
  assert.ok(calls > 1, 'later passes ran');
});

test('stop() waits for the pass in flight, and no pass starts after it', async () => {
  let finished = false;
  let started = 0;
  const loop = periodicLoop({
    name: 'long',
    intervalMs: 5,
    onError: () => undefined,
    pass: async () => {
      started++;
      await sleep(50);
      finished = true;
    },
  });
  loop.start();
  await sleep(15);
  assert.equal(started, 1);
  await loop.stop();
  assert.equal(finished, true, 'stop resolved only once the pass ended');
  await sleep(30);
  assert.equal(started, 1, 'nothing ran after stop');
});

test('each pass goes through the timing wrapper under the loop name', async () => {
  const timed: string[] = [];
  const loop = periodicLoop({
    name: 'timed',
    intervalMs: 5,
    onError: () => undefined,
    time: (name, pass) => {
      timed.push(name);
      return pass();
    },
    pass: async () => undefined,
  });
  loop.start();
  await sleep(30);
  await loop.stop();
  assert.ok(timed.length >= 1);
  assert.ok(timed.every((name) => name === 'timed'));
});

test('kick runs a pass now, or exactly once more after the pass under way; nothing after stop', async () => {
  let passes = 0;
  let release: () => void = () => undefined;
  const loop = periodicLoop({
    name: 'kicked',
    intervalMs: 60_000,
    onError: () => undefined,
    pass: async () => {
      passes++;
      await new Promise<void>((resolve) => (release = resolve));
    },
  });
  loop.start();
  loop.kick();
  assert.equal(passes, 1, 'ran at once');
  loop.kick();
  loop.kick();
  release();
  await sleep(5);
  assert.equal(passes, 2, 'two kicks during a pass: one more pass');
  release();
  await sleep(5);
  assert.equal(passes, 2);
  const stopping = loop.stop();
  loop.kick();
  await stopping;
  assert.equal(passes, 2, 'no pass after stop');
});
