/** `vmcloud status` (components and their status) and `vmcloud promises` (the seed's promises measured). */
import { listComponents, listPromises, type Component, type PromiseMeasure } from '../../contract/index.ts';
import type { Command } from '../command.ts';
import { renderList, type Column } from '../output.ts';

const componentColumns: Column<Component>[] = [
  { header: 'component', value: (c) => c.id },
  { header: 'status', value: (c) => c.status },
  {
    header: 'uptime 90d',
    value: (c) => (c.uptime_90d_percent === null ? null : `${c.uptime_90d_percent}%`),
    align: 'right',
  },
  { header: 'reason', value: (c) => c.reason },
];

export const statusCommand: Command = {
  name: 'status',
  summary: 'the status of every component (as on the public status page)',
  usage: '',
  examples: ['vmcloud status'],
  async run(ctx) {
    const client = await ctx.client();
    const { components } = await client.call(listComponents, {});
    ctx.out(renderList(ctx.output, componentColumns, components, 'No components.'));
    return 0;
  },
};

const promiseColumns: Column<PromiseMeasure>[] = [
  { header: 'promise', value: (p) => p.claim },
  { header: 'measured', value: (p) => (p.measured === null ? 'not measured' : `${p.measured} ${p.unit}`) },
  { header: 'holds', value: (p) => (p.holds === null ? '-' : p.holds ? 'yes' : 'no') },
  { header: 'simulated', value: (p) => (p.simulated ? 'yes' : 'no') },
  { header: 'window', value: (p) => p.window },
  { header: 'note', value: (p) => p.reason },
];

export const promisesCommand: Command = {
  name: 'promises',
  summary: "the seed's promises beside the measured values",
  usage: '',
  examples: ['vmcloud promises -o json'],
  async run(ctx) {
    const client = await ctx.client();
    const { promises } = await client.call(listPromises, {});
    ctx.out(renderList(ctx.output, promiseColumns, promises, 'No promises.'));
    return 0;
  },
};
