import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** Starts `vmcloud serve` as a real process and resolves once it listens (its URL parsed from stderr). */
export function startServeProcess(args: string[], env: NodeJS.ProcessEnv, deadlineMs = 30_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(root, 'bin/vmcloud.ts'), 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within ${deadlineMs} ms:\n${output}`)), deadlineMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /VMCloud control plane listening on (http:\/\/[^\s]+)/.exec(output);
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

export function readCliConfig(path: string): { current: string; profiles: Record<string, { url: string; token?: string }> } {
  return JSON.parse(readFileSync(path, 'utf8'));
}
