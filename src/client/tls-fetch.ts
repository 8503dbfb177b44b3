/**
 * A `fetch` that trusts a given CA (the control plane's own certificate with `serve --tls auto`, or a
 * private CA) on top of the system's, for the CLI's `--ca-cert` and client-library users.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

import { VmcError } from '../core/errors.ts';

export function fetchTrusting(caCertPath: string): typeof fetch {
  let caPem: string;
  try {
    caPem = readFileSync(caCertPath, 'utf8');
  } catch (error) {
    throw new VmcError('invalid', `cannot read the CA certificate ${caCertPath}: ${(error as Error).message}`, {
      reason: 'bad_ca_cert',
    });
  }
  if (!caPem.includes('BEGIN CERTIFICATE'))
    throw new VmcError('invalid', `${caCertPath} is not a PEM certificate`, { reason: 'bad_ca_cert' });
  // undici is loaded on first use: a CLI command without --ca-cert does not pay for it.
  let client: Promise<{ fetch: (input: never, init: never) => Promise<Response>; dispatcher: unknown }> | null = null;
  const load = () =>
    (client ??= import('undici').then(({ Agent, fetch: undiciFetch }) => ({
      fetch: undiciFetch as never,
      dispatcher: new Agent({ connect: { ca: [...rootCertificates, caPem], minVersion: 'TLSv1.3' } }),
    })));
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const { fetch: undiciFetch, dispatcher } = await load();
    return undiciFetch(input as never, { ...(init as object), dispatcher } as never);
  }) as unknown as typeof fetch;
}
