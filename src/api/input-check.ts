/**
 * Request bodies checked against the contract's schemas, with one set of validator options for every edge:
 * the REST API (Fastify compiles the operations' schemas with them) and GraphQL (its mutations take the same
 * bodies through `checkInput`). A name, a CIDR or a rule that REST refuses is refused by GraphQL too, with the
 * same fields and messages (`toVmcError`), before any service runs.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Static, TSchema } from 'typebox';
import { toVmcError } from '../core/index.ts';

/**
 * Fastify's `ajv.customOptions`. `verbose`: a failed pattern names its schema, whose description the problem
 * says instead of the regular expression. No coercion, no removal of unknown fields (they are refused).
 */
export const requestValidatorOptions = {
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: true,
  allErrors: true,
  verbose: true,
} as const;

const ajv = new Ajv({ ...requestValidatorOptions, addUsedSchema: false });
addFormats.default(ajv);
const compiled = new WeakMap<TSchema, ValidateFunction>();

/**
 * `value` if it satisfies `schema` (a copy, with the schema's defaults filled in), else the `invalid` error
 * REST would answer, naming each bad field (`context` says where they are: `input`, `rules`…).
 */
export function checkInput<S extends TSchema>(schema: S, value: unknown, context = 'input'): Static<S> {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const copy: unknown = value === undefined ? undefined : structuredClone(value);
  if (!validate(copy)) throw toVmcError({ validation: validate.errors ?? [], validationContext: context });
  return copy as Static<S>;
}
