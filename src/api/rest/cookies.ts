/** Cookies of the console session (docs/adr/0010-console-auth.md): parsing and Set-Cookie values. */

/** The names: `__Host-` prefixed over TLS (the browser then insists on Secure, Path=/ and no Domain). */
export function sessionCookieNames(tls: boolean) {
  const prefix = tls ? '__Host-' : '';
  return {
    session: `${prefix}vmc_session`,
    csrf: `${prefix}vmc_csrf`,
    /** The operator area's session (issue #16): its own pair, so a project session stays beside it. */
    operatorSession: `${prefix}vmc_operator_session`,
    operatorCsrf: `${prefix}vmc_operator_csrf`,
  };
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** A Set-Cookie value: Path=/, SameSite=Lax, HttpOnly unless readable, Secure over TLS; maxAgeS 0 clears it. */
export function setCookie(
  name: string,
  value: string,
  options: { maxAgeS: number; httpOnly: boolean; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${options.maxAgeS}`,
    'SameSite=Lax',
    ...(options.httpOnly ? ['HttpOnly'] : []),
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}
