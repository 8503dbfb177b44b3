/**
 * `--wait`: polls GET /v1/actions/{id} until the action ends. On a terminal one line is redrawn in place
 * (bar, percent, status, elapsed); otherwise a plain line is printed whenever status or progress changes,
 * so logs of CI jobs stay readable. Progress goes to stderr; stdout keeps the command's result.
 */
import { VmcError } from '../core/errors.ts';
import { getAction, type Action } from '../contract/index.ts';
import type { ApiClient } from '../client/index.ts';
import type { Writer } from './command.ts';
import { isErrorCode } from '../client/index.ts';
import { formatDuration, sanitize } from './output.ts';

export function progressBar(percent: number, width: number): string {
  const clamped = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
  const filled = Math.round((clamped / 100) * width);
  return '[' + '#'.repeat(filled) + '-'.repeat(width - filled) + ']';
}

const spinner = ['|', '/', '-', '\\'];

/** One progress line, e.g. `create web-1  [######------]  50%  running  1.5s`. */
export function formatProgressLine(
  action: Pick<Action, 'status' | 'progress'>,
  label: string,
  elapsedMs: number,
  tick?: number,
): string {
  const percent = Math.max(0, Math.min(100, Math.round(action.progress)));
  const mark = action.status === 'running' && tick !== undefined ? `${spinner[tick % spinner.length]} ` : '';
  return `${mark}${sanitize(label)}  ${progressBar(percent, 20)} ${String(percent).padStart(3)}%  ${action.status}  ${formatDuration(elapsedMs)}`;
}

/** The plain (non-terminal) line: `create web-1: running 50%`. */
export function formatPlainLine(action: Pick<Action, 'status' | 'progress'>, label: string): string {
  return `${sanitize(label)}: ${action.status} ${Math.round(action.progress)}%`;
}

export interface ProgressDisplay {
  update(action: Action, elapsedMs: number): void;
  finish(action: Action, elapsedMs: number): void;
}

export function createProgressDisplay(stderr: Writer, isTTY: boolean, label: string): ProgressDisplay {
  if (isTTY) {
    let tick = 0;
    return {
      update(action, elapsedMs) {
        stderr.write(`\r\x1b[2K${formatProgressLine(action, label, elapsedMs, tick++)}`);
      },
      finish(action, elapsedMs) {
        stderr.write(`\r\x1b[2K${formatProgressLine(action, label, elapsedMs)}\n`);
      },
    };
  }
  let last = '';
  const print = (action: Action) => {
    const line = formatPlainLine(action, label);
    if (line !== last) stderr.write(line + '\n');
    last = line;
  };
  return {
    update: print,
    finish(action, elapsedMs) {
      print(action);
      stderr.write(
        `${sanitize(label)}: ${action.status === 'success' ? 'done' : 'failed'} in ${formatDuration(elapsedMs)}\n`,
      );
    },
  };
}

export interface WaitDeps {
  client: ApiClient;
  stderr: Writer;
  isTTY: boolean;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  intervalMs?: number;
  timeoutMs?: number;
  /** Consecutive failed polls tolerated (a control plane restarting mid-action) before giving up. */
  maxPollFailures?: number;
}

/** The action's failure as the error the CLI reports (its code decides the exit code). */
export function actionFailure(action: Action): VmcError {
  const code = action.error && isErrorCode(action.error.code) ? action.error.code : 'internal';
  const message = action.error?.message ?? `action ${action.id} failed`;
  return new VmcError(code, `${action.command} failed: ${message}`, {
    reason: action.error && !isErrorCode(action.error.code) ? action.error.code : undefined,
    details: { action_id: action.id },
  });
}

export async function waitForAction(deps: WaitDeps, initial: Action, label: string): Promise<Action> {
  const intervalMs = deps.intervalMs ?? 500;
  const timeoutMs = deps.timeoutMs ?? 15 * 60_000;
  const maxFailures = deps.maxPollFailures ?? 10;
  const started = deps.now();
  const display = createProgressDisplay(deps.stderr, deps.isTTY, label);
  let action = initial;
  let failures = 0;
  while (action.status === 'running') {
    display.update(action, deps.now() - started);
    if (deps.now() - started >= timeoutMs) {
      if (deps.isTTY) deps.stderr.write('\n');
      throw new VmcError(
        'unavailable',
        `gave up waiting after ${formatDuration(timeoutMs)}; action ${action.id} is still running (see \`vmcloud action show ${action.id}\`)`,
        { reason: 'wait_timeout', details: { action_id: action.id } },
      );
    }
    await deps.sleep(intervalMs);
    try {
      action = (await deps.client.call(getAction, { params: { id: action.id } })).action;
      failures = 0;
    } catch (error) {
      const transient = error instanceof VmcError && (error.code === 'unavailable' || error.code === 'rate_limited');
      if (!transient || ++failures > maxFailures) {
        if (deps.isTTY) deps.stderr.write('\n');
        throw error;
      }
    }
  }
  display.finish(action, deps.now() - started);
  if (action.status === 'error') throw actionFailure(action);
  return action;
}
