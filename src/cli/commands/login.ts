/** `vmcloud login`: verify a token against a control plane and save it as a profile. */
import { VmcError } from '../../core/errors.ts';
import { getProject, listRegions, type Project } from '../../contract/index.ts';
import { createClient, fetchTrusting } from '../../client/index.ts';
import { resolve as resolvePath } from 'node:path';
import { UsageError, type Command } from '../command.ts';
import { defaultProfileName, defaultUrl, readConfig, saveProfile } from '../config.ts';
import { renderData, sanitize } from '../output.ts';

export const loginCommand: Command = {
  name: 'login',
  summary: 'verify an API token and save it as a profile',
  usage: '[--url URL] [--token TOKEN] [--profile NAME]',
  description:
    'Checks the token with GET /v1/project and saves URL and token in the config file (mode 0600), making the\n' +
    'profile current. Without --token, VMCLOUD_TOKEN or the token already in the profile is used.\n' +
    '`vmcloud serve` saves the first owner token as profile "default" on its first start.',
  examples: [
    'vmcloud login --url http://localhost:8080 --token vmc_…',
    'vmcloud login --profile prod --url https://api.example.eu --token vmc_…',
  ],
  async run(ctx) {
    const env = ctx.io.env;
    const config = await readConfig(env);
    const name = ctx.globals.profile ?? env.VMCLOUD_PROFILE ?? config.current ?? defaultProfileName;
    const existing = config.profiles[name];
    const url = ctx.globals.url ?? env.VMCLOUD_URL ?? existing?.url ?? defaultUrl;
    const token = ctx.globals.token ?? env.VMCLOUD_TOKEN ?? existing?.token;
    if (!token) {
      throw new UsageError(
        'missing --token: pass the API token (vmc_…) that `vmcloud serve` printed or `vmcloud token create` made',
      );
    }
    const caText = ctx.globals.caCert ?? env.VMCLOUD_CA_CERT ?? existing?.caCert;
    const caCert = caText ? resolvePath(ctx.cwd, caText) : undefined;
    const client = createClient({
      baseUrl: url,
      token,
      fetch: ctx.io.fetch ?? (caCert ? fetchTrusting(caCert) : undefined),
    });
    let project: Project | null = null;
    try {
      project = (await client.call(getProject)).project;
    } catch (error) {
      // Operator tokens belong to no project: check they authenticate on a route any token may read.
      if (!(error instanceof VmcError) || error.code !== 'forbidden') throw error;
      await client.call(listRegions);
    }
    const path = await saveProfile({ name, url, token, caCert, makeCurrent: true }, env);
    if (ctx.output !== 'table') {
      ctx.out(renderData(ctx.output, { profile: name, url: client.baseUrl, project, config_path: path }));
      return 0;
    }
    const who = project ? `project ${sanitize(project.name)} (${project.id})` : 'an operator (no project)';
    ctx.out(`Logged in to ${client.baseUrl} as ${who}.\nSaved profile "${name}" in ${path}.\n`);
    return 0;
  },
};
