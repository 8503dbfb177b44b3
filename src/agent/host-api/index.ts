/** The agent's host API: console, logs, snapshots, export, image upload and pinning for the control plane. */
export { createHostApi, refusalOfClient, pipeConsole } from './host-api.ts';
export type { HostApi, HostApiOptions, HostApiTls } from './host-api.ts';
export { hostFeaturesOf } from './feature-driver.ts';
export type { HostFeatureDriver } from './feature-driver.ts';
export type { HostImageWire, PinningWire, SnapshotWire } from './wire.ts';
export { exportHeaders, uploadHeaders } from './wire.ts';
