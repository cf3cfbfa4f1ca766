import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { type Block, type Chart, type Column, type Field, PALETTE, type ReportDocument } from './document.ts';

/*
 * PDFKit with its built-in base-14 fonts only (Helvetica, Courier): nothing is embedded or looked up on the
 * machine, so the same report yields the same bytes anywhere, which the signature and its tests rely on.
 */

type Pdf = PDFKit.PDFDocument;

const MARGIN = { top: 50, bottom: 60, left: 50, right: 50 };
const { ink: INK, muted: MUTED, line: LINE, head: HEAD, accent: ACCENT } = PALETTE;
const BODY = 9.5;
/** Courier is wider than Helvetica: at 8 pt a 64-digit hash still fits its column on one line. */
const MONO = 8;
/** ECharts sizes its text in CSS pixels: 12 px becomes 9.6 pt, the size of the body text. */
const PT_PER_PX = 0.8;
const CHART_GAP = 16;

// The base-14 fonts speak WinAnsi: Latin-1 plus these. PDFKit would write anything else as garbage.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

function win(text: string): string {
  return text.replace(/[^\x20-\x7e\xa0-\xff]/gu, (c) => (WIN_ANSI_EXTRA.has(c) ? c : '?'));
}

function contentWidth(pdf: Pdf): number {
  return pdf.page.width - MARGIN.left - MARGIN.right;
}

/** Starts a new page unless `height` points still fit on this one. */
function ensureSpace(pdf: Pdf, height: number): void {
  if (pdf.y + height > pdf.page.maxY()) pdf.addPage();
  pdf.x = MARGIN.left;
}

function paragraph(pdf: Pdf, text: string, muted = false): void {
  pdf.font('Helvetica').fontSize(BODY).fillColor(muted ? MUTED : INK).text(win(text), MARGIN.left, pdf.y, { width: contentWidth(pdf) });
  pdf.moveDown(0.5);
}

type Cell = PDFKit.Mixins.CellOptions;

function cell(text: string, c: { mono?: boolean; numeric?: boolean }, style: Cell = {}): Cell {
  return {
    text: win(text),
    font: { src: c.mono ? 'Courier' : 'Helvetica', size: c.mono ? MONO : BODY - 0.5 },
    textColor: INK,
    align: { x: c.numeric ? 'right' : 'left', y: 'center' },
    border: 0.5,
    borderColor: LINE,
    padding: [3, 4],
    ...style,
  };
}

/** Relative widths to points; PDFKit's table moves rows that do not fit to the next page. */
function grid(pdf: Pdf, weights: number[], rows: Cell[][]): void {
  const width = contentWidth(pdf);
  const total = weights.reduce((s, w) => s + w, 0);
  ensureSpace(pdf, 40);
  pdf.table({ position: { x: MARGIN.left, y: pdf.y }, columnStyles: weights.map((w) => (width * w) / total), data: rows });
  pdf.moveDown(0.8);
}

function table(pdf: Pdf, columns: Column[], rows: string[][]): void {
  const header = columns.map((c) => cell(c.title, c, { font: { src: 'Helvetica-Bold', size: BODY - 0.5 }, backgroundColor: HEAD }));
  grid(pdf, columns.map((c) => c.weight), [header, ...rows.map((r) => r.map((v, i) => cell(v, columns[i]!)))]);
}

function fields(pdf: Pdf, list: Field[]): void {
  grid(pdf, [34, 66], list.map((f) => [cell(f.label, {}, { textColor: MUTED }), cell(f.value, f)]));
}

/**
 * PDF has no paint-order: svg-to-pdfkit would stroke the halo ECharts puts around a label over its glyphs
 * (white numbers on the confusion matrix's dark cell vanish). The halo is dropped; the fill stays.
 */
function withoutHalos(svg: string): string {
  return svg.replace(/<text\b[^>]*\bpaint-order="stroke"[^>]*>/g, (tag) => tag.replace(/\s(?:stroke|stroke-width|stroke-miterlimit|paint-order)="[^"]*"/g, ''));
}

/** Charts side by side, each as vectors (svg-to-pdfkit), scaled down only when the row is too narrow. */
function charts(pdf: Pdf, list: Chart[]): void {
  const slot = (contentWidth(pdf) - CHART_GAP * (list.length - 1)) / list.length;
  const sized = list.map((c) => {
    const scale = Math.min(PT_PER_PX, slot / c.width);
    return { c, width: c.width * scale, height: c.height * scale };
  });
  const caption = 14;
  ensureSpace(pdf, caption + Math.max(...sized.map((s) => s.height)));
  const top = pdf.y;
  sized.forEach(({ c, width, height }, i) => {
    const x = MARGIN.left + i * (slot + CHART_GAP);
    pdf.font('Helvetica-Bold').fontSize(BODY).fillColor(INK).text(win(c.title), x, top, { width: slot, lineBreak: false });
    SVGtoPDF(pdf as unknown as Parameters<typeof SVGtoPDF>[0], withoutHalos(c.svg), x, top + caption, { width, height });
  });
  pdf.x = MARGIN.left;
  pdf.y = top + caption + Math.max(...sized.map((s) => s.height)) + 10;
}

function drawBlock(pdf: Pdf, b: Block): void {
  switch (b.kind) {
    case 'text':
      return paragraph(pdf, b.text, b.muted);
    case 'fields':
      return fields(pdf, b.fields);
    case 'table':
      return table(pdf, b.columns, b.rows);
    case 'charts':
      return charts(pdf, b.charts);
  }
}

/** Name of the report and page numbers at the foot of every page, written once the page count is known. */
function footers(pdf: Pdf, text: string): void {
  const range = pdf.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    pdf.switchToPage(range.start + i);
    // Writing below the bottom margin would otherwise make PDFKit start yet another page.
    pdf.page.margins.bottom = 0;
    const y = pdf.page.height - MARGIN.bottom + 20;
    const width = contentWidth(pdf);
    pdf.font('Helvetica').fontSize(7.5).fillColor(MUTED);
    pdf.text(win(text), MARGIN.left, y, { width, lineBreak: false });
    pdf.text(`page ${i + 1} of ${range.count}`, MARGIN.left, y, { width, align: 'right', lineBreak: false });
  }
}

/** The report as PDF bytes; `createdAt` (the report's date) is the document's creation date and seeds its file id. */
export async function renderPdf(doc: ReportDocument, meta: { createdAt: Date; author: string; creator: string }): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    info: { Title: doc.title, Author: meta.author, Creator: meta.creator, Producer: 'PDFKit', CreationDate: meta.createdAt },
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  pdf.font('Helvetica-Bold').fontSize(20).fillColor(INK).text(win(doc.title), MARGIN.left, MARGIN.top);
  pdf.moveDown(0.2);
  paragraph(pdf, doc.subtitle, true);
  for (const s of doc.sections) {
    // A heading is never left alone at the foot of a page.
    ensureSpace(pdf, 90);
    pdf.moveDown(0.6);
    pdf.font('Helvetica-Bold').fontSize(13).fillColor(ACCENT).text(win(s.title), MARGIN.left, pdf.y, { width: contentWidth(pdf) });
    pdf.moveDown(0.4);
    for (const b of s.blocks) drawBlock(pdf, b);
  }
  footers(pdf, doc.footer);
  pdf.end();
  return done;
}
