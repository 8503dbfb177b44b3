/**
 * A fake `qemu-system-x86_64` for driver tests that need no real guest: it reads the argv the driver
 * generates, writes the pid file, serves QMP on the private socket (status machine prelaunch → running,
 * query-cpus-fast with its own thread, powerdown/quit/reset with their events) and a console socket
 * whose output also goes to the chardev logfile. FAKE_QEMU_IGNORE_POWERDOWN=1, or a file `fake-ignore-powerdown`
 * beside the pid file (created by a test while the instance runs), plays a guest without acpid.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { startFakeQmpServer, type FakeQmpServer } from '../fake-qmp-server.ts';
import { qmpCommandNames as qmp } from '../qmp-commands.ts';

const argv = process.argv.slice(2);
const optionValues = (name: string) => argv.flatMap((arg, i) => (arg === name ? [argv[i + 1]] : []));
const chardevs = optionValues('-chardev').map((spec) =>
  Object.fromEntries(spec.split(',').map((part) => part.split('=') as [string, string])),
);
const qmpPath = chardevs.find((chardev) => chardev.id === 'qmp')?.path;
const consoleChardev = chardevs.find((chardev) => chardev.id === 'console0');
const pidFile = optionValues('-pidfile')[0];
if (!qmpPath || !consoleChardev || !pidFile) {
  process.stderr.write('fake-qemu: missing -chardev qmp/console0 or -pidfile\n');
  process.exit(1);
}
writeFileSync(pidFile, `${process.pid}\n`);

let status = argv.includes('-S') ? 'prelaunch' : 'running';
let server: FakeQmpServer | null = null;
const guestOutput = (text: string) => {
  appendFileSync(consoleChardev.logfile, text);
  for (const client of consoleClients) client.write(text);
};
const exit = (reason: string, guest: boolean) => {
  server?.emitEvent('SHUTDOWN', { guest, reason });
  setTimeout(() => process.exit(0), 10);
};

const consoleClients = new Set<Socket>();
createServer((socket) => {
  consoleClients.add(socket);
  socket.on('close', () => consoleClients.delete(socket));
  socket.on('error', () => {});
  socket.on('data', (data) => guestOutput(`echo:${data.toString()}`));
}).listen(consoleChardev.path);

server = await startFakeQmpServer(qmpPath, {
  [qmp.queryStatus]: () => ({ return: { status, running: status === 'running' } }),
  [qmp.queryCpusFast]: () => ({
    return: [
      { 'cpu-index': 0, 'thread-id': process.pid, 'qom-path': '/machine/unattached/device[0]', target: 'x86_64' },
    ],
  }),
  [qmp.cont]: () => {
    status = 'running';
    setTimeout(() => guestOutput('VMCLOUD-GUEST-UP uptime=0.01\nVMCLOUD-GUEST-READY hostname=fake\n'), 5);
    return { return: {} };
  },
  [qmp.systemPowerdown]: () => {
    server?.emitEvent('POWERDOWN');
    const ignores =
      process.env.FAKE_QEMU_IGNORE_POWERDOWN === '1' || existsSync(join(dirname(pidFile), 'fake-ignore-powerdown'));
    if (!ignores) setTimeout(() => exit('guest-shutdown', true), 5);
    return { return: {} };
  },
  [qmp.systemReset]: () => {
    server?.emitEvent('RESET', { guest: false, reason: 'host-qmp-system-reset' });
    guestOutput('VMCLOUD-GUEST-UP uptime=0.01\n');
    return { return: {} };
  },
  [qmp.quit]: () => {
    exit('host-qmp-quit', false);
    return { return: {} };
  },
});
