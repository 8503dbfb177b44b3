/**
 * `vmcloud server console|logs|snapshot|export`: what a server's host holds, through the API (which
 * proxies to the host's agent). Registered into the `server` group by main.ts.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { VmcError } from '../../core/errors.ts';
import {
  createConsoleTicket,
  createSnapshot,
  deleteSnapshot,
  listSnapshots,
  restoreSnapshot,
  type Snapshot,
} from '../../contract/index.ts';
import { UsageError, choiceOf, flagOf, stringOf, type Command } from '../command.ts';
import { renderData, renderList, sanitize, type Column } from '../output.ts';
import { resolveServer } from '../resolve.ts';
import { attachTerminal, consoleWebSocketUrl } from './console-session.ts';
import { byteProgress, formatBytes, rawRequest } from './raw-http.ts';

const snapshotColumns: Column<Snapshot>[] = [
  { header: 'name', value: (s) => s.name },
  { header: 'id', value: (s) => s.id },
  { header: 'created', value: (s) => s.created_at },
];

const path = (serverId: string, rest = '') => `/v1/servers/${encodeURIComponent(serverId)}${rest}`;

export const consoleCommand: Command = {
  name: 'console',
  summary: "attach this terminal to a server's serial console",
  usage: 'NAME|ID [--read-only]',
  description:
    'Asks the API for a console ticket (valid 60 s, once), then opens the console WebSocket. When stdin is a terminal it is put in raw mode,\n' +
    'so every key goes to the guest; press Ctrl-] to detach. Needs an owner or member token.',
  args: [{ name: 'NAME|ID', required: true }],
  options: { 'read-only': { type: 'boolean', help: 'watch only: keystrokes are not sent to the guest' } },
  examples: ['vmcloud server console web-1'],
  async run(ctx, { values, positionals }) {
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[0]);
    const readOnly = flagOf(values, 'read-only');
    const grant = await client.call(createConsoleTicket, {
      params: { id: server.id },
      body: readOnly ? { read_only: true } : {},
    });
    const end = await attachTerminal(
      consoleWebSocketUrl(client.baseUrl, grant.url),
      { stdin: process.stdin, stdout: ctx.io.stdout as never, stderr: ctx.io.stderr },
      server.name,
    );
    ctx.err(
      end.how === 'detached'
        ? '\r\nDetached from the console.\n'
        : `\r\nThe console closed${end.reason ? `: ${sanitize(end.reason)}` : ''} (${end.code}).\n`,
    );
    return end.how === 'detached' || end.code === 1000 ? 0 : 1;
  },
};

export const logsCommand: Command = {
  name: 'logs',
  summary: "print a server's boot log (its serial console output)",
  usage: 'NAME|ID [--previous-boot]',
  args: [{ name: 'NAME|ID', required: true }],
  options: { 'previous-boot': { type: 'boolean', help: 'the log of the boot before the current one' } },
  examples: ['vmcloud server logs web-1', 'vmcloud server logs web-1 --previous-boot'],
  async run(ctx, { values, positionals }) {
    const server = await resolveServer(await ctx.client(), positionals[0]);
    const response = await rawRequest(ctx, 'GET', path(server.id, '/logs'), {
      query: { previous_boot: flagOf(values, 'previous-boot') ? 'true' : undefined },
    });
    const text = await response.text();
    if (ctx.output !== 'table') ctx.out(renderData(ctx.output, { server: server.id, log: text }));
    else ctx.out(text.endsWith('\n') || text === '' ? text : text + '\n');
    return 0;
  },
};

const snapshotActions = ['create', 'list', 'restore', 'delete'] as const;

export const snapshotCommand: Command = {
  name: 'snapshot',
  summary: 'disk snapshots of a server: create, list, restore, delete',
  usage: 'create|list|restore|delete NAME|ID [SNAPSHOT]',
  description:
    "Disk-only snapshots kept inside the server's disk on its host (deleted with the server; use `server export` for a copy that outlives it).\n" +
    'create takes an optional SNAPSHOT name (default snap-<date>-<time>). restore needs the server stopped: `vmcloud server stop NAME --wait` first.',
  args: [
    { name: 'ACTION', required: true },
    { name: 'NAME|ID', required: true },
    { name: 'SNAPSHOT', required: false },
  ],
  examples: [
    'vmcloud server snapshot create web-1 before-upgrade',
    'vmcloud server snapshot list web-1',
    'vmcloud server snapshot restore web-1 before-upgrade',
  ],
  async run(ctx, { positionals }) {
    const action = choiceOf(positionals[0], snapshotActions, 'the snapshot action');
    const snapshotName = positionals[2];
    if ((action === 'restore' || action === 'delete') && !snapshotName)
      throw new UsageError(`missing SNAPSHOT: which snapshot to ${action}`);
    if (action === 'list' && snapshotName) throw new UsageError(`unexpected argument "${sanitize(snapshotName)}"`);
    const client = await ctx.client();
    const server = await resolveServer(client, positionals[1]);
    const params = { id: server.id };
    if (action === 'list') {
      const { snapshots } = await client.call(listSnapshots, { params });
      ctx.out(renderList(ctx.output, snapshotColumns, snapshots, `Server ${server.name} has no snapshots.`));
      return 0;
    }
    if (action === 'create') {
      const { snapshot } = await client.call(createSnapshot, {
        params,
        body: snapshotName ? { name: snapshotName } : {},
      });
      ctx.out(
        ctx.output === 'table'
          ? `snapshot ${snapshot.name} of ${server.name} created\n`
          : renderData(ctx.output, { snapshot }),
      );
      return 0;
    }
    const one = { id: server.id, name: snapshotName };
    try {
      if (action === 'restore') await client.call(restoreSnapshot, { params: one });
      else await client.call(deleteSnapshot, { params: one });
    } catch (error) {
      if (error instanceof VmcError && error.reason === 'server_running') {
        throw new VmcError(error.code, `${error.message}\nhint: vmcloud server stop ${server.name} --wait`, {
          reason: error.reason,
          details: error.details,
        });
      }
      throw error;
    }
    const done =
      action === 'restore'
        ? `disk of ${server.name} restored to snapshot ${snapshotName}`
        : `snapshot ${snapshotName} of ${server.name} deleted`;
    ctx.out(
      ctx.output === 'table'
        ? done + '\n'
        : renderData(ctx.output, {
            server: server.id,
            snapshot: snapshotName,
            [action === 'restore' ? 'restored' : 'deleted']: true,
          }),
    );
    return 0;
  },
};

export const exportCommand: Command = {
  name: 'export',
  summary: "download a server's disk as a qcow2 (or raw) file",
  usage: 'NAME|ID FILE [--format qcow2|raw] [--encrypted]   (or --file FILE)',
  description:
    'A standalone image of the disk, base image included, that any QEMU/KVM can boot (no lock-in). From a running server the copy is\n' +
    'crash-consistent. The file is written to FILE.partial and renamed when complete. Needs an owner or member token.\n' +
    '(`--output` is the global output format flag, so the file is a second argument or --file.)\n' +
    'The export is decrypted by default. --encrypted keeps it a LUKS qcow2 under a fresh key, shown once: it is written to\n' +
    'FILE.key (mode 0600) and kept nowhere else; open it with qemu-img --object secret,id=k,file=FILE.key --image-opts\n' +
    'driver=qcow2,file.filename=FILE,encrypt.key-secret=k.',
  args: [
    { name: 'NAME|ID', required: true },
    { name: 'FILE', required: false },
  ],
  options: {
    file: { type: 'string', arg: 'FILE', help: 'file to write (or give it as the second argument)' },
    format: { type: 'string', arg: 'FORMAT', help: 'qcow2 (default) or raw' },
    encrypted: { type: 'boolean', help: 'keep the export encrypted; its key goes to FILE.key (0600), once' },
  },
  examples: ['vmcloud server export web-1 web-1.qcow2', 'vmcloud server export web-1 --file web-1.raw --format raw'],
  async run(ctx, { values, positionals }) {
    const output = positionals[1] ?? stringOf(values, 'file');
    if (!output) throw new UsageError('missing FILE: where to write the disk (second argument or --file)');
    if (positionals[1] && stringOf(values, 'file'))
      throw new UsageError('give the file once: as the second argument or with --file');
    const format = choiceOf(stringOf(values, 'format') ?? 'qcow2', ['qcow2', 'raw'] as const, '--format');
    const encrypted = flagOf(values, 'encrypted');
    if (encrypted && format !== 'qcow2') throw new UsageError('--encrypted exports are qcow2 (raw has no encryption)');
    const server = await resolveServer(await ctx.client(), positionals[0]);
    const file = resolvePath(ctx.cwd, output);
    const response = await rawRequest(ctx, 'GET', path(server.id, '/export'), {
      query: { format, ...(encrypted ? { encrypted: 'true' } : {}) },
      headersTimeoutMs: 30 * 60_000,
    });
    const total = Number(response.headers.get('content-length') ?? NaN);
    const progress = byteProgress(ctx, `exporting ${server.name}:`, Number.isFinite(total) ? total : null);
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        progress.update(bytes);
        callback(null, chunk);
      },
    });
    const partial = `${file}.partial`;
    try {
      const body = response.body
        ? Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>)
        : Readable.from([]);
      await pipeline(body, counter, createWriteStream(partial));
      if (Number.isFinite(total) && bytes !== total)
        throw new VmcError('unavailable', `the export stopped after ${bytes} of ${total} bytes`, {
          reason: 'export_truncated',
        });
      await rename(partial, file);
      const exportKey = response.headers.get('x-vmcloud-export-key');
      if (encrypted) {
        if (!exportKey) throw new VmcError('internal', 'the control plane sent no export key');
        await writeFile(`${file}.key`, exportKey, { mode: 0o600 });
      }
    } catch (error) {
      await rm(partial, { force: true });
      throw error instanceof VmcError
        ? error
        : new VmcError('unavailable', `the export failed: ${(error as Error).message}`, { reason: 'export_failed' });
    } finally {
      progress.done();
    }
    if (ctx.output !== 'table') ctx.out(renderData(ctx.output, { server: server.id, file, format, size_bytes: bytes }));
    else
      ctx.out(
        `exported the disk of ${server.name} to ${file}: ${format}, ${formatBytes(bytes)} (${bytes} bytes)` +
          (encrypted ? `, encrypted: its key is in ${file}.key (shown nowhere else)` : '') +
          '\n',
      );
    return 0;
  },
};

/** The commands main.ts adds to the `server` group. */
export const serverHostCommands: Command[] = [consoleCommand, logsCommand, snapshotCommand, exportCommand];
