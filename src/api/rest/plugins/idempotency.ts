/**
 * Idempotency-Key on POST (see src/idempotency): a retry gets the first answer, another body with the
 * same key 422, and the outcome is written in the transaction of the request's mutation.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import {
  parseIdempotencyKey,
  requestFingerprint,
  type IdempotencyService,
  type IdempotentRequest,
} from '../../../idempotency/index.ts';
import { VmcError } from '../../../core/index.ts';
import '../context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { request: IdempotentRequest; recorded(): boolean } | null;
  }
}

export interface IdempotencyOptions {
  idempotency: IdempotencyService;
}

const validators = new WeakMap<TSchema, { Check(value: unknown): boolean }>();
function matches(schema: TSchema, value: unknown): boolean {
  let validator = validators.get(schema);
  if (!validator) {
    validator = Compile(schema);
    validators.set(schema, validator);
  }
  return validator.Check(value);
}

function sendOutcome(reply: FastifyReply, statusCode: number, body: string) {
  reply.header('Idempotent-Replayed', 'true');
  return reply
    .code(statusCode)
    .type(statusCode >= 400 ? 'application/problem+json' : 'application/json')
    .send(body);
}

async function idempotency(app: FastifyInstance, options: IdempotencyOptions) {
  app.decorateRequest('idempotency', null);

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !request.principal) return;
    const key = parseIdempotencyKey(request.headers['idempotency-key']);
    if (!key) return;
    const path = request.url.split('?')[0];
    const idempotent: IdempotentRequest = {
      scope: request.principal.tokenId,
      key,
      method: request.method,
      path,
      fingerprint: requestFingerprint(request.method, path, request.body),
    };
    const found = await options.idempotency.lookup(idempotent);
    if (found.kind === 'replay') return sendOutcome(reply, found.statusCode, found.body);
    const operation = request.routeOptions.config?.operation;
    const participant = options.idempotency.participant(idempotent, (result) => {
      if (!operation?.response || result === null || typeof result !== 'object') return null;
      if (!matches(operation.response, result)) return null;
      return {
        statusCode: operation.status,
        body: reply.serializeInput(result as Record<string, unknown>, String(operation.status)) as string,
      };
    });
    request.transactionParticipants.push(participant);
    request.idempotency = { request: idempotent, recorded: participant.recorded };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const state = request.idempotency;
    if (!state || reply.getHeader('Idempotent-Replayed') || state.recorded()) return payload;
    if (reply.statusCode >= 200 && reply.statusCode < 300 && typeof payload === 'string') {
      await options.idempotency.recordAlone(state.request, reply.statusCode, payload);
    }
    return payload;
  });
}

/** A concurrent duplicate committed first: answer its outcome. */
export async function replayIdempotent(
  service: IdempotencyService,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const state = request.idempotency;
  if (!state) throw new VmcError('internal', 'an idempotent replay without an Idempotency-Key');
  const found = await service.lookup(state.request);
  if (found.kind !== 'replay') throw new VmcError('internal', 'the first request of this Idempotency-Key vanished');
  return sendOutcome(reply, found.statusCode, found.body);
}

export const idempotencyPlugin = fp(idempotency, {
  name: 'vmcloud-idempotency',
  dependencies: ['vmcloud-authentication'],
});
