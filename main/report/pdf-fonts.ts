// Fonts of the audit PDF: the Roboto files pdfmake ships (body text and figures) and the
// standard Courier (identifiers). Text a font cannot draw is escaped before layout, so a
// hostile name never turns into invisible glyphs.
import { createRequire } from 'node:module';
import { openSync as openFont } from 'fontkit';
import { printable, printableLatin1 } from './printable.ts';

const require = createRequire(import.meta.url);

export const ROBOTO = {
  normal: require.resolve('pdfmake/fonts/Roboto/Roboto-Regular.ttf'),
  bold: require.resolve('pdfmake/fonts/Roboto/Roboto-Medium.ttf'),
  italics: require.resolve('pdfmake/fonts/Roboto/Roboto-Italic.ttf'),
  bolditalics: require.resolve('pdfmake/fonts/Roboto/Roboto-MediumItalic.ttf'),
};

export const COURIER = { normal: 'Courier', bold: 'Courier-Bold', italics: 'Courier-Oblique', bolditalics: 'Courier-BoldOblique' };

let roboto: { hasGlyphForCodePoint(cp: number): boolean } | null = null;

function robotoHas(cp: number): boolean {
  roboto ??= openFont(ROBOTO.normal) as unknown as { hasGlyphForCodePoint(cp: number): boolean };
  return roboto.hasGlyphForCodePoint(cp);
}

/** Model text for Roboto: hidden characters and characters Roboto has no glyph for are escaped. */
export function forRoboto(text: string): string {
  return Array.from(printable(text))
    .map((ch) => {
      const cp = ch.codePointAt(0)!;
      return cp < 0x80 || robotoHas(cp) ? ch : `\\u{${cp.toString(16)}}`;
    })
    .join('');
}

/** Model text for Courier (WinAnsi): everything outside Latin-1 is escaped. */
export function forCourier(text: string): string {
  return printableLatin1(text);
}
