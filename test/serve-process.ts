import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output(): string;
}

/**
 * Starts `vmcloud serve` as a real process and resolves once it listens (its URL parsed from stderr). The
 * agent listener takes a free port unless `args` name one (tests run side by side).
 */
export function startServeProcess(args: string[], env: NodeJS.ProcessEnv, deadlineMs = 30_000): Promise<ServeProcess> {
  const agentListen = args.includes('--agent-listen') ? [] : ['--agent-listen', '127.0.0.1:0'];
  // VMCLOUD_SERVE_NODE_ARGS: node flags for the child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a benchmark.
  const nodeArgs = (process.env.VMCLOUD_SERVE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin/vmcloud.ts'), 'serve', ...agentListen, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    // A serve that does not come up is killed: left running, it would keep the test file alive for good.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within ${deadlineMs} ms:\n${output}`));
    }, deadlineMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /VMCloud control plane listening on (https?:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    });
  });
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export function readCliConfig(path: string): {
  current: string;
  profiles: Record<string, { url: string; token?: string }>;
} {
  return JSON.parse(readFileSync(path, 'utf8'));
}
