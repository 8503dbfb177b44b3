/** The typed client of the REST API: `createClient({ baseUrl, token }).call(operation, input)`. */
export {
  createClient,
  buildUrl,
  codeOfStatus,
  errorFromResponse,
  isErrorCode,
  networkError,
  type ApiClient,
  type CallInput,
  type CallResult,
  type ClientOptions,
  type Query,
  type RequestOptions,
} from './http.ts';
export { WebSocket, forwardableCloseCode, shortReason, wsDataToBuffer, wsOpen } from './ws.ts';
export type { WsClientOptions, WsData, WsSocket } from './ws.ts';
export { fetchTrusting } from './tls-fetch.ts';
export { parseSse, type SseMessage } from './sse.ts';
