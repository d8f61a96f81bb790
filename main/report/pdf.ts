// The exported audit PDF (app Export button, `tfaudit scan --pdf`): pdfmake 0.3 in plain Node,
// the Roboto fonts pdfmake ships plus the standard Courier, no network, no local files beyond
// those fonts. The same AuditDocument always renders to the same bytes (dates come from it).
import pdfmake from 'pdfmake';
import type { AuditDocument } from '../../shared/report.ts';
import { verdictSentence } from '../../shared/report.ts';
import { auditContent, PAGE, STYLES } from './pdf-content.ts';
import { COURIER, forRoboto, ROBOTO } from './pdf-fonts.ts';

export type { AuditDocument } from '../../shared/report.ts';

function pinnedDate(iso: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`generatedAt is not an ISO date: ${JSON.stringify(iso)}`);
  return date;
}

export function auditDocDefinition(doc: AuditDocument): object {
  const date = pinnedDate(doc.generatedAt);
  const modelName = forRoboto(doc.report.model.path.replace(/\/+$/, '').split('/').pop() || doc.report.model.path);
  return {
    pageSize: 'A4',
    pageMargins: [PAGE.margin, PAGE.margin, PAGE.margin, PAGE.margin + 8],
    info: {
      title: `Security audit of ${modelName}`,
      author: doc.auditor ?? '',
      subject: verdictSentence(doc.report),
      keywords: 'TensorFlow, model security, audit',
      creator: `${doc.report.tool.name} ${doc.report.tool.version}`,
      producer: 'pdfmake',
      creationDate: date,
      modDate: date,
    },
    language: 'en',
    defaultStyle: { font: 'Roboto', fontSize: 9.5, lineHeight: 1.15, color: '#1f2933' },
    styles: STYLES,
    footer: (currentPage: number, pageCount: number) => ({
      columns: [
        { text: `Security audit: ${modelName}`.slice(0, 90), fontSize: 7.5, color: '#6b7280' },
        { text: `Page ${currentPage} of ${pageCount}`, alignment: 'right', fontSize: 7.5, color: '#6b7280' },
      ],
      margin: [PAGE.margin, 16, PAGE.margin, 0],
    }),
    content: auditContent(doc),
  };
}

export async function renderAuditPdf(doc: AuditDocument): Promise<Buffer> {
  const fonts = { Roboto: { ...ROBOTO }, Courier: { ...COURIER } };
  const allowed = new Set([...Object.values(ROBOTO), ...Object.values(COURIER)]);
  pdfmake.setFonts(fonts);
  pdfmake.setUrlAccessPolicy(() => false);
  pdfmake.setLocalAccessPolicy((path) => allowed.has(path));
  return pdfmake.createPdf(auditDocDefinition(doc)).getBuffer();
}
