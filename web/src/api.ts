/**
 * The console's API: the typed client of the contract (src/client/http.ts) over the session cookie, with the
 * CSRF token read from its cookie (docs/adr/0010-console-auth.md). Same origin: the API is at /v1.
 */
import { createClient } from '../../src/client/http.ts';
import { VmcError } from '../../src/core/errors.ts';

export function csrfToken(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === 'vmc_csrf' || name === '__Host-vmc_csrf') return rest.join('=');
  }
  return null;
}

export const api = createClient({ baseUrl: window.location.origin, token: undefined, session: { csrfToken } });

export { VmcError };
export type { SseMessage } from '../../src/client/sse.ts';
