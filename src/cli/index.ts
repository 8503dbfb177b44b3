/** The `vmcloud` CLI: `runCli` for bin/vmcloud.ts, `saveProfile` for `serve`'s first start. */
export { runCli, type CliIo } from './main.ts';
export { saveProfile, loadProfile, configPath } from './config.ts';
