/** `vmcloud host evacuate|forget` (operators): what to do with a host that died. */
import { evacuateHost, forgetHost } from '../../contract/index.ts';
import { requiredString, type Command } from '../command.ts';
import { renderData } from '../output.ts';
import { drainText } from './host.ts';

const evacuate: Command = {
  name: 'evacuate',
  summary: 'move the servers of a dead host to other hosts (a cold restart elsewhere)',
  usage: 'ID',
  description:
    'For a host that is down or unusable. Simulated servers are placed again on other hosts of the region;\n' +
    'a server whose disk is on the dead host (qemu) cannot move and is listed as stuck. A live host is drained instead.',
  args: [{ name: 'ID', required: true }],
  examples: ['vmcloud --profile operator host evacuate host_01jbz4m6k2x0r8t3q9w5e7y1ab'],
  async run(ctx, { positionals }) {
    const { evacuation } = await (await ctx.client()).call(evacuateHost, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? drainText(evacuation) : renderData(ctx.output, evacuation));
    return evacuation.stuck.length === 0 ? 0 : 1;
  },
};

const forget: Command = {
  name: 'forget',
  summary: 'give up a dead host for good: claims released, deletes finished, its other servers in error',
  usage: 'ID --confirm HOST_NAME',
  description:
    "For a host that is down or unusable and will not come back. Its servers' disks are lost: servers being\n" +
    'deleted are deleted, the others become `error` (delete them or restore a backup). Confirm with the host name.',
  args: [{ name: 'ID', required: true }],
  options: { confirm: { type: 'string', arg: 'HOST_NAME', help: "the host's name, to confirm" } },
  examples: ['vmcloud --profile operator host forget host_01jbz4m6k2x0r8t3q9w5e7y1ab --confirm fra1-std-7543-004'],
  async run(ctx, { values, positionals }) {
    const confirm = requiredString(values, 'confirm');
    const client = await ctx.client();
    const result = await client.call(forgetHost, { params: { id: positionals[0] }, body: { confirm } });
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, result));
      return 0;
    }
    ctx.out(
      `host ${result.name} forgotten: ${result.deleted.length} pending deletes finished, ${result.lost.length} servers in error (disk lost)\n`,
    );
    return 0;
  },
};

/** Registered into the `host` group by main.ts. */
export const hostRecoveryCommands: Command[] = [evacuate, forget];
