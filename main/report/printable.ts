// Model-controlled text (node names, paths, values) made safe to show: terminal escapes,
// bidi overrides and invisible characters could hide or disguise what a finding says, so
// they are written out as visible escapes.

// C0/C1 controls, DEL, bidi controls, zero-width and other invisible formatting characters,
// lone surrogates.
const HIDDEN =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\ufff0-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

export function printable(text: string): string {
  return text.replace(HIDDEN, escapeChar);
}

/**
 * For the PDF's standard monospace font (Courier, WinAnsi encoding): additionally escapes every
 * character outside Latin-1, which that font cannot draw.
 */
export function printableLatin1(text: string): string {
  return Array.from(printable(text))
    .map((ch) => (ch.codePointAt(0)! > 0xff ? `\\u{${ch.codePointAt(0)!.toString(16)}}` : ch))
    .join('');
}
