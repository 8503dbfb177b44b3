/** The control plane's client of an agent's host API, and the typed `ws` WebSocket both sides use. */
export { consoleStreamOf, createHostClient, hostError } from './host-client.ts';
export type { ConsoleStream, ExportStream, HostClient, HostClientOptions, ImageDownload } from './host-client.ts';
export { WebSocket, forwardableCloseCode, shortReason, wsDataToBuffer, wsOpen } from '../../client/index.ts';
export type { WsClientOptions, WsData, WsSocket } from '../../client/index.ts';
export type { HostImageWire, PinningWire, SnapshotWire } from '../host-api/wire.ts';
