#!/usr/bin/env node
/**
 * The one entry: `serve` (control plane), `agent` (hypervisor host), everything else is the CLI. Each path
 * loads only its own code: a CLI command never loads Fastify, Kysely, pg or the scheduler.
 */
const [command, ...rest] = process.argv.slice(2);
const io = {
  env: process.env,
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
};

let code: number;
if (command === 'serve') code = await (await import('../src/daemons/serve.ts')).runServe(rest, io);
else if (command === 'agent') code = await (await import('../src/daemons/agent.ts')).runAgent(rest, io);
else
  code = await (
    await import('../src/cli/index.ts')
  ).runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
  });
process.exitCode = code;
