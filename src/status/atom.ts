/** The Atom feed (RFC 4287) of incidents: one entry per incident, its updates as the content. */
import type { Incident } from '../contract/index.ts';
import { escapeXml } from './html.ts';

export function renderAtom(incidents: readonly Incident[], baseUrl: string, generatedAt: string): string {
  const updated = incidents.reduce(
    (latest, i) => (i.updated_at > latest ? i.updated_at : latest),
    '1970-01-01T00:00:00.000Z',
  );
  const entries = incidents.map((i) => {
    const content = i.updates
      .map((u) => `<p><strong>${escapeXml(u.status)}</strong> (${escapeXml(u.at)}): ${escapeXml(u.body)}</p>`)
      .join('');
    return [
      '  <entry>',
      `    <id>${escapeXml(`${baseUrl}/v1/incidents/${i.id}`)}</id>`,
      `    <title>${escapeXml(`[${i.impact}] ${i.title}${i.resolved_at ? ' (resolved)' : ''}`)}</title>`,
      `    <published>${i.created_at}</published>`,
      `    <updated>${i.updated_at}</updated>`,
      `    <link rel="alternate" type="text/html" href="${escapeXml(`${baseUrl}/status#${i.id}`)}"/>`,
      `    <category term="${escapeXml(i.impact)}"/>`,
      `    <content type="html">${escapeXml(content)}</content>`,
      '  </entry>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `  <id>${escapeXml(`${baseUrl}/status/history.atom`)}</id>`,
    '  <title>VMCloud status: incident history</title>',
    `  <updated>${incidents.length > 0 ? updated : generatedAt}</updated>`,
    '  <author><name>VMCloud operators</name></author>',
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(`${baseUrl}/status/history.atom`)}"/>`,
    `  <link rel="alternate" type="text/html" href="${escapeXml(`${baseUrl}/status`)}"/>`,
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}
