/**
 * The one logger of every process: pino, JSON lines with an ISO `time`, a textual `level`, and errors
 * under `err` with their stack. Fastify logs through the same instance (`loggerInstance`). Secrets that
 * could reach a log line (tokens, console tickets in query strings) are redacted.
 */
import { pino, stdSerializers, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** What code logs through: pino's methods with a fields object first (`log.warn({ host_id }, 'msg')`). */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error' | 'child' | 'level'>;

export interface LoggerOptions {
  level?: LogLevel;
  /** Fields on every line, e.g. `{ component: 'agent' }`. */
  base?: Record<string, unknown>;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  destination?: DestinationStream;
}

export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-vmcloud-export-key"]',
  'res.headers["x-vmcloud-export-key"]',
  'headers.authorization',
  'authorization',
  'token',
  'secret',
  'agent_key',
  'agentKey',
  'diskKey',
  'disk_key',
  'spec.diskKey',
  'exportKey',
];

/**
 * How a request appears in a log line: method and path, never the query string (console tickets and
 * other single-use secrets travel there), and the client address.
 */
export function requestLogFields(request: { method?: string; url?: string; ip?: string; id?: string }) {
  return {
    method: request.method,
    url: typeof request.url === 'string' ? request.url.split('?')[0] : undefined,
    remote_address: request.ip,
    request_id: request.id,
  };
}

export function createLogger(options: LoggerOptions = {}): PinoLogger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: stdSerializers.err, error: stdSerializers.err, req: requestLogFields },
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    options.destination,
  );
}

export const silentLogger: PinoLogger = pino({ level: 'silent' });
