/**
 * The per-response style nonce (docs/adr/0011-console-style-nonce.md). xterm.js creates `<style>` elements
 * for its theme and cell dimensions and takes no nonce; the console's CSP allows a `<style>` element only
 * with the nonce the server put in index.html (`<meta property="csp-nonce" nonce="…">`, read through the
 * `nonce` property: browsers hide the attribute once parsed). Every `<style>` this document creates gets
 * it at creation, before insertion (a nonce set after insertion leaves the sheet dead). Style attributes
 * (`style="…"`) stay refused, and so does any `<style>` that arrives in markup rather than from this script.
 */
export function installStyleNonce(doc: Document = document): string | null {
  const nonce = doc.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]')?.nonce ?? '';
  if (!nonce) return null;
  const create = doc.createElement.bind(doc) as (tag: string, options?: ElementCreationOptions) => HTMLElement;
  doc.createElement = ((tag: string, options?: ElementCreationOptions) => {
    const element = create(tag, options);
    if (tag.toLowerCase() === 'style') element.setAttribute('nonce', nonce);
    return element;
  }) as Document['createElement'];
  return nonce;
}
