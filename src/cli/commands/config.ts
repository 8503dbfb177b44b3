/** `vmcloud config list|use|show`: the CLI's profiles (see src/cli/config.ts for the file). */
import { flagOf, type Command, type Group } from '../command.ts';
import { configPath, readConfig, useProfile } from '../config.ts';
import { maskToken, renderData, renderDetail, renderList, type Column } from '../output.ts';

interface ProfileRow {
  current: boolean;
  name: string;
  url: string;
  token: string;
}

const profileColumns: Column<ProfileRow>[] = [
  { header: 'current', value: (p) => (p.current ? '*' : ' ') },
  { header: 'name', value: (p) => p.name },
  { header: 'url', value: (p) => p.url },
  { header: 'token', value: (p) => p.token },
];

const list: Command = {
  name: 'list',
  summary: 'list saved profiles',
  usage: '',
  examples: ['vmcloud config list'],
  async run(ctx) {
    const config = await readConfig(ctx.io.env);
    const rows = Object.entries(config.profiles).map(([name, p]) => ({
      current: name === config.current,
      name,
      url: p.url,
      token: maskToken(p.token),
    }));
    ctx.out(
      renderList(ctx.output, profileColumns, rows, `No profiles in ${configPath(ctx.io.env)}: run \`vmcloud login\`.`),
    );
    return 0;
  },
};

const use: Command = {
  name: 'use',
  summary: 'make a profile the current one',
  usage: 'NAME',
  args: [{ name: 'NAME', required: true }],
  examples: ['vmcloud config use prod'],
  async run(ctx, { positionals }) {
    const path = await useProfile(positionals[0], ctx.io.env);
    ctx.out(
      ctx.output === 'table'
        ? `Current profile is now "${positionals[0]}" (${path}).\n`
        : renderData(ctx.output, { current: positionals[0] }),
    );
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'show the profile in effect (after --profile, --url, --token and VMCLOUD_* variables)',
  usage: '[--show-token]',
  options: { 'show-token': { type: 'boolean', help: 'print the token in full' } },
  examples: ['vmcloud config show', 'vmcloud config show --show-token -o json'],
  async run(ctx, { values }) {
    const profile = await ctx.profile();
    const token = flagOf(values, 'show-token') ? profile.token : maskToken(profile.token);
    if (ctx.output !== 'table') {
      ctx.out(
        renderData(ctx.output, {
          profile: profile.name,
          url: profile.url,
          token: token ?? null,
          config_path: profile.configPath,
          sources: profile.sources,
        }),
      );
      return 0;
    }
    ctx.out(
      renderDetail([
        ['Profile', profile.stored ? profile.name : `${profile.name} (not saved)`],
        ['URL', `${profile.url} (from ${profile.sources.url})`],
        ['Token', profile.token ? `${token} (from ${profile.sources.token})` : 'none: run `vmcloud login`'],
        ['Config file', profile.configPath],
      ]),
    );
    return 0;
  },
};

export const configGroup: Group = {
  name: 'config',
  summary: 'CLI profiles (URL and token per control plane)',
  commands: [list, use, show],
};
