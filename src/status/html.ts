/** Escaping for the status page's HTML and the Atom feed's XML (text and attribute values). */
const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c]);
}

export const escapeHtml = escapeXml;
