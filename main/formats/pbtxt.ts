// Protocol-buffer TEXT format parser (what TensorFlow writes as .pbtxt, saved_model.pbtxt,
// the `checkpoint` state file, ...), generic over the protobufjs reflection of our schema.
//
// The text is transcoded field by field into the binary wire format with a protobufjs Writer
// and then decoded with `type.decode`, so the result has exactly the shape a binary decode
// gives (Long for 64-bit ints, Uint8Array for bytes, numbers for enums, protobufjs map
// objects), and text-format merge rules (last singular scalar wins, repeated singular
// messages merge, repeated fields append) are the binary ones by construction.
import protobuf from 'protobufjs';
import { LIMITS, ModelError } from './errors.ts';

const { Writer, Enum, Type } = protobuf;
type Writer = protobuf.Writer;

export interface TextProtoOptions {
  /** Skip (rather than reject) fields the schema does not know. TensorFlow rejects them. */
  allowUnknownFields?: boolean;
}

/** Parses protobuf text format into a message of `type`. Errors name `file` and line:column. */
export function parseTextProto(text: string, type: protobuf.Type, file: string, options: TextProtoOptions = {}): protobuf.Message {
  const bytes = textProtoToBinary(text, type, file, options);
  try {
    return type.decode(bytes);
  } catch (error) {
    throw new ModelError(file, `text proto does not form a valid ${type.name}: ${(error as Error).message}`);
  }
}

/** Parses text format and returns its binary encoding (useful to feed a binary reader). */
export function textProtoToBinary(text: string, type: protobuf.Type, file: string, options: TextProtoOptions = {}): Uint8Array {
  if (text.length > LIMITS.maxTextBytes) {
    throw new ModelError(file, `text proto of ${text.length} characters exceeds the ${LIMITS.maxTextBytes} limit`);
  }
  const parser = new TextParser(text, file, options, type.root as protobuf.Root);
  const writer = Writer.create();
  parser.parseMessageBody(type, writer, 0, null);
  return writer.finish();
}

// ---------------------------------------------------------------------------------------------
// Lexer

type TokenKind = 'ident' | 'number' | 'string' | 'symbol' | 'eof';

interface Token {
  kind: TokenKind;
  /** Identifier / number / symbol text; for strings, empty. */
  text: string;
  /** Decoded bytes of a (possibly concatenated) string literal. */
  bytes?: Uint8Array;
  line: number;
  column: number;
}

const CH_NL = 10;

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

class ByteBuilder {
  buf = new Uint8Array(64);
  length = 0;
  push(b: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b;
  }
  pushCodePoint(cp: number): void {
    if (cp < 0x80) this.push(cp);
    else if (cp < 0x800) {
      this.push(0xc0 | (cp >> 6));
      this.push(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      this.push(0xe0 | (cp >> 12));
      this.push(0x80 | ((cp >> 6) & 0x3f));
      this.push(0x80 | (cp & 0x3f));
    } else {
      this.push(0xf0 | (cp >> 18));
      this.push(0x80 | ((cp >> 12) & 0x3f));
      this.push(0x80 | ((cp >> 6) & 0x3f));
      this.push(0x80 | (cp & 0x3f));
    }
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private peeked: Token | null = null;

  constructor(
    private readonly text: string,
    readonly file: string,
  ) {}

  fail(reason: string, at?: { line: number; column: number }): never {
    const where = at ?? { line: this.line, column: this.pos - this.lineStart + 1 };
    throw new ModelError(this.file, `line ${where.line}:${where.column}: ${reason}`);
  }

  peek(): Token {
    if (!this.peeked) this.peeked = this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  /** Consumes the symbol `s` if it is next. */
  accept(s: string): boolean {
    const t = this.peek();
    if (t.kind === 'symbol' && t.text === s) {
      this.next();
      return true;
    }
    return false;
  }

  expect(s: string): Token {
    const t = this.next();
    if (t.kind !== 'symbol' || t.text !== s) this.fail(`expected "${s}" but found ${describe(t)}`, t);
    return t;
  }

  /** Raw text of an extension or Any type name between `[` and `]` (already consumed `[`). */
  readBracketName(): string {
    if (this.peeked) this.fail('internal: bracket name after peek');
    let name = '';
    for (;;) {
      this.skipSpace();
      if (this.pos >= this.text.length) this.fail('unterminated "[" name');
      const c = this.text.charCodeAt(this.pos);
      if (c === 93 /* ] */) {
        this.pos++;
        break;
      }
      if (!(isIdentPart(c) || c === 46 || c === 47 || c === 45 || c === 126 || c === 37)) this.fail(`unexpected character "${this.text[this.pos]}" in "[" name`);
      name += this.text[this.pos];
      this.pos++;
      if (name.length > 4096) this.fail('"[" name too long');
    }
    if (!name) this.fail('empty "[]" name');
    return name;
  }

  private skipSpace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === CH_NL) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
        this.pos++;
      } else if (c === 35 /* # */) {
        while (this.pos < text.length && text.charCodeAt(this.pos) !== CH_NL) this.pos++;
      } else {
        break;
      }
    }
  }

  private scan(): Token {
    this.skipSpace();
    const line = this.line;
    const column = this.pos - this.lineStart + 1;
    const text = this.text;
    if (this.pos >= text.length) return { kind: 'eof', text: '', line, column };
    const c = text.charCodeAt(this.pos);
    if (isIdentStart(c)) {
      const start = this.pos;
      while (this.pos < text.length && isIdentPart(text.charCodeAt(this.pos))) this.pos++;
      return { kind: 'ident', text: text.slice(start, this.pos), line, column };
    }
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(this.pos + 1)))) {
      const start = this.pos;
      while (this.pos < text.length) {
        const d = text.charCodeAt(this.pos);
        if (isIdentPart(d) || d === 46) {
          this.pos++;
        } else if ((d === 45 || d === 43) && /[eE]$/.test(text.slice(start, this.pos)) && !/^0[xX]/.test(text.slice(start, this.pos))) {
          this.pos++;
        } else {
          break;
        }
      }
      return { kind: 'number', text: text.slice(start, this.pos), line, column };
    }
    if (c === 34 || c === 39) {
      const bytes = new ByteBuilder();
      this.scanString(bytes);
      // Adjacent string literals concatenate.
      for (;;) {
        this.skipSpace();
        const d = text.charCodeAt(this.pos);
        if (d !== 34 && d !== 39) break;
        this.scanString(bytes);
      }
      return { kind: 'string', text: '', bytes: bytes.finish(), line, column };
    }
    this.pos++;
    return { kind: 'symbol', text: text[this.pos - 1]!, line, column };
  }

  private scanString(out: ByteBuilder): void {
    const text = this.text;
    const quote = text.charCodeAt(this.pos);
    this.pos++;
    for (;;) {
      if (this.pos >= text.length) this.fail('unterminated string');
      const c = text.charCodeAt(this.pos);
      if (c === quote) {
        this.pos++;
        return;
      }
      if (c === CH_NL) this.fail('newline inside a string');
      if (c !== 92 /* \ */) {
        if (c < 0x80) {
          out.push(c);
          this.pos++;
        } else {
          const cp = text.codePointAt(this.pos)!;
          out.pushCodePoint(cp);
          this.pos += cp > 0xffff ? 2 : 1;
        }
        continue;
      }
      this.pos++;
      if (this.pos >= text.length) this.fail('unterminated escape');
      const e = text[this.pos]!;
      this.pos++;
      switch (e) {
        case 'n': out.push(10); break;
        case 't': out.push(9); break;
        case 'r': out.push(13); break;
        case 'a': out.push(7); break;
        case 'b': out.push(8); break;
        case 'f': out.push(12); break;
        case 'v': out.push(11); break;
        case '\\': out.push(92); break;
        case "'": out.push(39); break;
        case '"': out.push(34); break;
        case '?': out.push(63); break;
        case 'x':
        case 'X': {
          let v = 0;
          let n = 0;
          while (n < 2 && this.pos < text.length && isHexDigit(text.charCodeAt(this.pos))) {
            v = v * 16 + parseInt(text[this.pos]!, 16);
            this.pos++;
            n++;
          }
          if (n === 0) this.fail('\\x escape without hex digits');
          out.push(v);
          break;
        }
        case 'u':
        case 'U': {
          const digits = e === 'u' ? 4 : 8;
          const hex = text.slice(this.pos, this.pos + digits);
          if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) this.fail(`\\${e} escape needs ${digits} hex digits`);
          this.pos += digits;
          let cp = parseInt(hex, 16);
          // A UTF-16 surrogate pair written as two \u escapes.
          if (cp >= 0xd800 && cp <= 0xdbff && text.startsWith('\\u', this.pos)) {
            const low = parseInt(text.slice(this.pos + 2, this.pos + 6), 16);
            if (low >= 0xdc00 && low <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
              this.pos += 6;
            }
          }
          if (cp > 0x10ffff) this.fail(`\\${e} escape beyond U+10FFFF`);
          out.pushCodePoint(cp);
          break;
        }
        default: {
          if (e >= '0' && e <= '7') {
            let v = e.charCodeAt(0) - 48;
            let n = 1;
            while (n < 3 && this.pos < text.length) {
              const d = text.charCodeAt(this.pos);
              if (d < 48 || d > 55) break;
              v = v * 8 + (d - 48);
              this.pos++;
              n++;
            }
            if (v > 255) this.fail('octal escape above \\377');
            out.push(v);
            break;
          }
          this.fail(`unknown escape "\\${e}"`);
        }
      }
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof': return 'end of input';
    case 'string': return 'a string';
    default: return `"${t.text}"`;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser / transcoder

/** What the parser needs to know about a field (a real field, or a map entry's key/value). */
interface FieldSpec {
  name: string;
  id: number;
  /** protobufjs scalar type name, or the message/enum name. */
  type: string;
  resolved: protobuf.Type | protobuf.Enum | null;
  repeated: boolean;
  /** For map fields, the key scalar type. */
  keyType?: string;
}

const WIRE_VARINT = 0;
const WIRE_64 = 1;
const WIRE_LEN = 2;
const WIRE_32 = 5;

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

function longBits(v: bigint): { low: number; high: number } {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn), high: Number(u >> 32n) };
}

function fieldSpec(field: protobuf.Field): FieldSpec {
  field.resolve();
  const spec: FieldSpec = {
    name: field.name,
    id: field.id,
    type: field.type,
    resolved: field.resolvedType,
    repeated: field.repeated,
  };
  if (field instanceof protobuf.MapField) spec.keyType = field.keyType;
  return spec;
}

class TextParser {
  private readonly lex: Lexer;

  constructor(
    text: string,
    readonly file: string,
    private readonly options: TextProtoOptions,
    private readonly root: protobuf.Root,
  ) {
    this.lex = new Lexer(text, file);
  }

  private findField(type: protobuf.Type, name: string): protobuf.Field | null {
    const fields = type.fields;
    const direct = Object.prototype.hasOwnProperty.call(fields, name) ? fields[name] : undefined;
    if (direct) return direct;
    const camel = protobuf.util.camelCase(name);
    if (Object.prototype.hasOwnProperty.call(fields, camel)) return fields[camel]!;
    // Group fields are written with their type name.
    for (const f of type.fieldsArray) if (f.delimited && f.type === name) return f;
    return null;
  }

  /** Parses fields until `end` ('}' / '>' / null for end of input), writing them to `w`. */
  parseMessageBody(type: protobuf.Type, w: Writer, depth: number, end: string | null): void {
    if (depth > LIMITS.maxNestingDepth) this.lex.fail(`messages nested deeper than ${LIMITS.maxNestingDepth}`);
    const isAny = type.fullName === '.google.protobuf.Any';
    for (;;) {
      const t = this.lex.peek();
      if (t.kind === 'eof') {
        if (end !== null) this.lex.fail(`expected "${end}" but found end of input`, t);
        return;
      }
      if (t.kind === 'symbol' && end !== null && t.text === end) {
        this.lex.next();
        return;
      }
      if (t.kind === 'symbol' && t.text === '[') {
        this.lex.next();
        const name = this.lex.readBracketName();
        if (isAny && name.includes('/')) this.parseAnyExpansion(name, w, depth, t);
        else this.skipFieldValue(depth, t);
      } else if (t.kind === 'ident') {
        this.lex.next();
        const field = this.findField(type, t.text);
        if (!field) {
          if (this.options.allowUnknownFields) this.skipFieldValue(depth, t);
          else this.lex.fail(`no field "${t.text}" in ${type.fullName.replace(/^\./, '')}`, t);
        } else {
          this.parseField(fieldSpec(field), w, depth);
        }
      } else {
        this.lex.fail(`expected a field name but found ${describe(t)}`, t);
      }
      if (!this.lex.accept(',')) this.lex.accept(';');
    }
  }

  private parseField(spec: FieldSpec, w: Writer, depth: number): void {
    const isMessage = spec.resolved instanceof Type || spec.keyType !== undefined;
    const colon = this.lex.accept(':');
    if (!colon && !isMessage) this.lex.fail(`expected ":" after field "${spec.name}"`, this.lex.peek());
    const next = this.lex.peek();
    if (next.kind === 'symbol' && next.text === '[') {
      // A list; for message fields the colon before it is optional.
      if (!spec.repeated && spec.keyType === undefined) this.lex.fail(`field "${spec.name}" is not repeated but has a list value`, next);
      this.lex.next();
      if (this.lex.accept(']')) return;
      for (;;) {
        this.parseSingleValue(spec, w, depth);
        if (this.lex.accept(']')) return;
        this.lex.expect(',');
      }
    }
    this.parseSingleValue(spec, w, depth);
  }

  private parseSingleValue(spec: FieldSpec, w: Writer, depth: number): void {
    if (spec.keyType !== undefined) {
      this.parseMapEntry(spec, w, depth);
      return;
    }
    if (spec.resolved instanceof Type) {
      const open = this.lex.next();
      if (open.kind !== 'symbol' || (open.text !== '{' && open.text !== '<')) {
        this.lex.fail(`expected "{" or "<" for message field "${spec.name}" but found ${describe(open)}`, open);
      }
      w.uint32((spec.id << 3) | WIRE_LEN).fork();
      this.parseMessageBody(spec.resolved, w, depth + 1, open.text === '{' ? '}' : '>');
      w.ldelim();
      return;
    }
    this.writeScalar(spec, w);
  }

  private parseMapEntry(spec: FieldSpec, w: Writer, depth: number): void {
    const open = this.lex.next();
    if (open.kind !== 'symbol' || (open.text !== '{' && open.text !== '<')) {
      this.lex.fail(`expected "{" for map entry of "${spec.name}" but found ${describe(open)}`, open);
    }
    const close = open.text === '{' ? '}' : '>';
    if (depth + 1 > LIMITS.maxNestingDepth) this.lex.fail(`messages nested deeper than ${LIMITS.maxNestingDepth}`);
    const keySpec: FieldSpec = { name: 'key', id: 1, type: spec.keyType!, resolved: null, repeated: false };
    const valueSpec: FieldSpec = { name: 'value', id: 2, type: spec.type, resolved: spec.resolved, repeated: false };
    w.uint32((spec.id << 3) | WIRE_LEN).fork();
    for (;;) {
      const t = this.lex.next();
      if (t.kind === 'symbol' && t.text === close) break;
      if (t.kind !== 'ident' || (t.text !== 'key' && t.text !== 'value')) {
        this.lex.fail(`expected "key" or "value" in map entry of "${spec.name}" but found ${describe(t)}`, t);
      }
      this.parseField(t.text === 'key' ? keySpec : valueSpec, w, depth + 1);
      if (!this.lex.accept(',')) this.lex.accept(';');
    }
    w.ldelim();
  }

  private parseAnyExpansion(name: string, w: Writer, depth: number, at: Token): void {
    const typeName = name.slice(name.lastIndexOf('/') + 1);
    let inner: protobuf.Type;
    try {
      inner = this.root.lookupType(typeName);
    } catch {
      this.lex.fail(`Any holds type "${typeName}", which the schema does not define`, at);
    }
    this.lex.accept(':');
    const open = this.lex.next();
    if (open.kind !== 'symbol' || (open.text !== '{' && open.text !== '<')) {
      this.lex.fail(`expected "{" after [${name}] but found ${describe(open)}`, open);
    }
    w.uint32((1 << 3) | WIRE_LEN).string(name);
    w.uint32((2 << 3) | WIRE_LEN).fork();
    this.parseMessageBody(inner, w, depth + 1, open.text === '{' ? '}' : '>');
    w.ldelim();
  }

  /** Skips the value of an unknown or extension field: `: scalar`, `: [..]`, `{..}`, `<..>`. */
  private skipFieldValue(depth: number, at: Token): void {
    if (depth > LIMITS.maxNestingDepth) this.lex.fail(`messages nested deeper than ${LIMITS.maxNestingDepth}`, at);
    const colon = this.lex.accept(':');
    const t = this.lex.peek();
    if (t.kind === 'symbol' && t.text === '[' && colon) {
      this.lex.next();
      if (this.lex.accept(']')) return;
      for (;;) {
        this.skipSingleValue(depth);
        if (this.lex.accept(']')) return;
        this.lex.expect(',');
      }
    }
    if (!colon && !(t.kind === 'symbol' && (t.text === '{' || t.text === '<'))) {
      this.lex.fail(`expected ":" or "{" after a field name but found ${describe(t)}`, t);
    }
    this.skipSingleValue(depth);
  }

  private skipSingleValue(depth: number): void {
    const t = this.lex.next();
    if (t.kind === 'symbol' && (t.text === '{' || t.text === '<')) {
      const close = t.text === '{' ? '}' : '>';
      for (;;) {
        const n = this.lex.peek();
        if (n.kind === 'symbol' && n.text === close) {
          this.lex.next();
          return;
        }
        if (n.kind === 'eof') this.lex.fail(`expected "${close}" but found end of input`, n);
        if (n.kind === 'symbol' && n.text === '[') {
          this.lex.next();
          this.lex.readBracketName();
        } else if (n.kind === 'ident') {
          this.lex.next();
        } else {
          this.lex.fail(`expected a field name but found ${describe(n)}`, n);
        }
        this.skipFieldValue(depth + 1, n);
        if (!this.lex.accept(',')) this.lex.accept(';');
      }
    }
    if (t.kind === 'symbol' && t.text === '-') {
      const n = this.lex.next();
      if (n.kind !== 'number' && n.kind !== 'ident') this.lex.fail(`expected a number after "-" but found ${describe(n)}`, n);
      return;
    }
    if (t.kind === 'number' || t.kind === 'ident' || t.kind === 'string') return;
    this.lex.fail(`expected a value but found ${describe(t)}`, t);
  }

  // ---- scalars

  private writeScalar(spec: FieldSpec, w: Writer): void {
    const id = spec.id;
    if (spec.resolved instanceof Enum) {
      w.uint32((id << 3) | WIRE_VARINT).int32(this.readEnum(spec.resolved, spec.name));
      return;
    }
    switch (spec.type) {
      case 'string':
      case 'bytes': {
        const t = this.lex.next();
        if (t.kind !== 'string') this.lex.fail(`expected a string for field "${spec.name}" but found ${describe(t)}`, t);
        w.uint32((id << 3) | WIRE_LEN).bytes(t.bytes!);
        return;
      }
      case 'bool':
        w.uint32((id << 3) | WIRE_VARINT).bool(this.readBool(spec.name));
        return;
      case 'double':
        w.uint32((id << 3) | WIRE_64).double(this.readFloat(spec.name));
        return;
      case 'float':
        w.uint32((id << 3) | WIRE_32).float(this.readFloat(spec.name));
        return;
      case 'int32':
        w.uint32((id << 3) | WIRE_VARINT).int32(Number(this.readInt(spec)));
        return;
      case 'uint32':
        w.uint32((id << 3) | WIRE_VARINT).uint32(Number(this.readInt(spec)));
        return;
      case 'sint32':
        w.uint32((id << 3) | WIRE_VARINT).sint32(Number(this.readInt(spec)));
        return;
      case 'fixed32':
        w.uint32((id << 3) | WIRE_32).fixed32(Number(this.readInt(spec)));
        return;
      case 'sfixed32':
        w.uint32((id << 3) | WIRE_32).sfixed32(Number(this.readInt(spec)));
        return;
      case 'int64':
      case 'uint64':
        w.uint32((id << 3) | WIRE_VARINT).uint64(longBits(this.readInt(spec)) as unknown as number);
        return;
      case 'sint64':
        w.uint32((id << 3) | WIRE_VARINT).sint64(longBits(this.readInt(spec)) as unknown as number);
        return;
      case 'fixed64':
      case 'sfixed64':
        w.uint32((id << 3) | WIRE_64).fixed64(longBits(this.readInt(spec)) as unknown as number);
        return;
      default:
        this.lex.fail(`field "${spec.name}" has type "${spec.type}", which the schema does not resolve`);
    }
  }

  /** A number token with an optional leading '-' as its own token. */
  private readSignedToken(what: string): { negative: boolean; token: Token } {
    let t = this.lex.next();
    let negative = false;
    if (t.kind === 'symbol' && t.text === '-') {
      negative = true;
      t = this.lex.next();
    }
    if (t.kind !== 'number' && t.kind !== 'ident') this.lex.fail(`expected ${what} but found ${describe(t)}`, t);
    return { negative, token: t };
  }

  private readInt(spec: FieldSpec): bigint {
    const { negative, token } = this.readSignedToken(`an integer for field "${spec.name}"`);
    const s = token.text;
    let v: bigint;
    if (token.kind !== 'number') this.lex.fail(`expected an integer for field "${spec.name}" but found "${s}"`, token);
    if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = BigInt(s);
    else if (/^0[0-7]+$/.test(s)) v = BigInt('0o' + s.slice(1));
    else if (/^(0|[1-9][0-9]*)$/.test(s)) v = BigInt(s);
    else this.lex.fail(`"${s}" is not an integer (field "${spec.name}")`, token);
    if (negative) v = -v;
    const range = INT_RANGES[spec.type] ?? INT_RANGES.int32!;
    if (v < range[0] || v > range[1]) this.lex.fail(`${negative ? '-' : ''}${s} is out of range for ${spec.type} field "${spec.name}"`, token);
    return v;
  }

  private readFloat(name: string): number {
    const { negative, token } = this.readSignedToken(`a number for field "${name}"`);
    const s = token.text;
    const lower = s.toLowerCase();
    let v: number;
    if (token.kind === 'ident') {
      if (lower === 'inf' || lower === 'infinity') v = Infinity;
      else if (lower === 'nan') v = NaN;
      else this.lex.fail(`expected a number for field "${name}" but found "${s}"`, token);
    } else if (/^0[xX][0-9a-fA-F]+$/.test(s)) {
      v = Number(BigInt(s));
    } else {
      const body = /[fF]$/.test(s) && !/^0[xX]/.test(s) ? s.slice(0, -1) : s;
      if (!/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(body)) this.lex.fail(`"${s}" is not a number (field "${name}")`, token);
      v = Number(body);
    }
    return negative ? -v : v;
  }

  private readBool(name: string): boolean {
    const t = this.lex.next();
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 't' || t.text === 'True') return true;
      if (t.text === 'false' || t.text === 'f' || t.text === 'False') return false;
    }
    if (t.kind === 'number') {
      if (t.text === '1') return true;
      if (t.text === '0') return false;
    }
    this.lex.fail(`expected true or false for field "${name}" but found ${describe(t)}`, t);
  }

  private readEnum(e: protobuf.Enum, name: string): number {
    const { negative, token } = this.readSignedToken(`an enum value for field "${name}"`);
    if (token.kind === 'ident') {
      if (negative) this.lex.fail(`"-" before enum name "${token.text}"`, token);
      const v = Object.prototype.hasOwnProperty.call(e.values, token.text) ? e.values[token.text] : undefined;
      if (v === undefined) this.lex.fail(`unknown ${e.name} value "${token.text}" for field "${name}"`, token);
      return v;
    }
    if (!/^(0|[1-9][0-9]*|0[xX][0-9a-fA-F]+)$/.test(token.text)) this.lex.fail(`"${token.text}" is not an enum number`, token);
    const n = Number(BigInt(token.text)) * (negative ? -1 : 1);
    if (n < -(2 ** 31) || n > 2 ** 31 - 1) this.lex.fail(`enum number ${n} out of range for field "${name}"`, token);
    return n;
  }
}
