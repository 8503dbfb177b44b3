#!/usr/bin/env node
/** The one entry: `serve` (control plane), `agent` (hypervisor host), everything else is the CLI. */
import { runServe } from '../src/daemons/serve.ts';
import { runCli } from '../src/cli/main.ts';

const [command, ...rest] = process.argv.slice(2);
const io = { env: process.env, stdout: (text: string) => process.stdout.write(text), stderr: (text: string) => process.stderr.write(text) };

let code: number;
if (command === 'serve') code = await runServe(rest, io);
else if (command === 'agent') code = await (await import('../src/daemons/agent.ts')).runAgent(rest, io);
else code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, isTTY: Boolean(process.stderr.isTTY) });
process.exitCode = code;
