/**
 * Renders an invoice or credit note as a PDF (pdf-lib, standard Helvetica: WinAnsi text, so characters
 * outside it are replaced). One A4 page per 40 lines.
 */
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { Invoice } from '../contract/index.ts';
import { formatCents } from './money.ts';

const winAnsi = /[^\u0020-\u007e\u00a0-\u00ff€–—‘’“”•…]/g;
const clean = (text: string) => text.replace(winAnsi, '?');

export async function renderInvoicePdf(invoice: Invoice): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const title = invoice.kind === 'credit_note' ? 'Credit note' : 'Invoice';
  pdf.setTitle(`${title} ${invoice.number ?? 'draft'}`);
  pdf.setAuthor(invoice.supplier.name);
  // Both dates are the invoice's (pdf-lib would stamp the modification date with the time of rendering): the
  // same invoice renders to the same bytes whenever it is downloaded.
  const issuedAt = new Date(invoice.issued_at ?? invoice.created_at);
  pdf.setCreationDate(issuedAt);
  pdf.setModificationDate(issuedAt);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);

  let page: PDFPage = pdf.addPage([595.28, 841.89]);
  let y = 800;
  const text = (value: string, x: number, size = 9, f: PDFFont = font) => {
    page.drawText(clean(value), { x, y, size, font: f, color: rgb(0, 0, 0) });
  };
  const right = (value: string, xRight: number, size = 9, f: PDFFont = font) => {
    const v = clean(value);
    page.drawText(v, { x: xRight - f.widthOfTextAtSize(v, size), y, size, font: f });
  };
  const newline = (dy = 12) => {
    y -= dy;
    if (y < 60) {
      page = pdf.addPage([595.28, 841.89]);
      y = 800;
    }
  };

  text(`${title} ${invoice.number ?? '(draft)'}`, 40, 18, bold);
  newline(24);
  text(`Status: ${invoice.status}`, 40);
  text(`Issue date: ${invoice.issued_at?.slice(0, 10) ?? '-'}`, 200);
  text(`Service period: ${invoice.period}`, 380);
  newline();
  if (invoice.refers_to) {
    text(`Corrects invoice: ${invoice.refers_to}`, 40);
    newline();
  }
  newline(8);
  const party = (label: string, p: Invoice['supplier'], x: number, startY: number) => {
    y = startY;
    text(label, x, 9, bold);
    newline();
    text(p.name, x);
    newline();
    for (const line of p.address.split('\n')) {
      text(line, x);
      newline();
    }
    text(`Country: ${p.country}`, x);
    newline();
    text(`VAT ID: ${p.vat_id ?? '-'}`, x);
    newline();
    return y;
  };
  const top = y;
  const afterSupplier = party('Supplier', invoice.supplier, 40, top);
  const afterCustomer = party('Customer', invoice.customer, 320, top);
  y = Math.min(afterSupplier, afterCustomer);
  newline(10);

  text('Description', 40, 9, bold);
  right('Amount EUR', 555, 9, bold);
  newline(14);
  for (const line of invoice.lines) {
    const description = line.description.length > 95 ? `${line.description.slice(0, 92)}...` : line.description;
    text(description, 40, 8);
    right(formatCents(line.amount_cents), 555, 8);
    newline(11);
    for (const d of line.downtime ?? []) {
      text(`  downtime ${d.cause}: ${d.from} to ${d.to} (${d.minutes} min)`, 52, 7);
      newline(10);
    }
  }
  newline(6);
  const total = (label: string, cents: number, f: PDFFont = font) => {
    text(label, 360, 9, f);
    right(formatCents(cents), 555, 9, f);
    newline();
  };
  total('Subtotal', invoice.subtotal_cents);
  total(
    `VAT ${invoice.vat.rate_percent} %${invoice.vat.country ? ` (${invoice.vat.country})` : ''}`,
    invoice.vat_cents,
  );
  total('Total EUR', invoice.total_cents, bold);
  if (invoice.credits_cents > 0) total('SLA credits applied', invoice.credits_cents);
  newline(8);
  if (invoice.vat.mention) {
    text(invoice.vat.mention, 40, 8);
    newline();
  }
  text(invoice.payment.instructions, 40, 8);
  newline();
  return pdf.save();
}
