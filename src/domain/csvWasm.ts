// The CSV reader's fast lane (csvReader.ts): plain records of numbers parsed by WebAssembly, emitted by
// domain/wasm.ts's assembler. A run reads its file once, so as JavaScript the tokenizer and number parser
// ran largely as cold code; compiled, they run at speed from the first byte.
//
// The lane takes only what it can read exactly as the JavaScript reader would, and stops at anything else,
// leaving that record to the reader: a quote, a lone CR, an empty line, a record with another number of
// fields, or a cell of a read column that is not a number on the reader's fast path (blank, a missing-value
// token, text, more significant digits than a double holds exactly, a power of ten beyond 1e±22). Its
// numbers are the reader's: digits into an exact integer (below 2^53), times or over an exact power of ten
// (Clinger's fast path, correctly rounded), so the same doubles, bit for bit.
import { assemble, F64, I32, I64, op, wasmApi, type Fn, type WasmMemory } from "./wasm.js"

const [QUOTE, COMMA, LF, CR, SPACE, TAB, MINUS, PLUS, DOT] = [34, 44, 10, 13, 32, 9, 45, 43, 46]

/**
 * records(buf, pos, len, nCols, kinds, out, stride, maxRows, pow10, result, fix, fixMax) → records read.
 * From buf + pos to buf + len (pos and len are offsets from buf), whole records of nCols fields: field c of
 * a column with kinds[c] = 1 (int32) parsed as a number into out[c·stride + record] (doubles); kinds[c] = 0
 * skipped. Stops before the first record it cannot take (or after maxRows). result gets the position after
 * the last record taken (int32 at result), the number of fix-ups of the records taken (int32 at result + 4;
 * each four int32 at fix: column, record, token start and end; at most fixMax, then the record is left to
 * the reader) and a bit per column whose numbers had a '.' or an exponent (int64 at result + 8; columns < 64).
 */
const recordsFn = (): Fn => {
  // parameters
  const [buf, pos, len, nCols, kinds, out, stride, maxRows, pow10, result, fix, fixMax] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
  ]
  // i32 locals
  const [rec, p, col, s, e, c, d, digits, exp10, neg, isFloat, ex, ed, eneg, recStart, s0, inexact, nFix, fixDone] = [
    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30
  ]
  // i64 locals: the mantissa, this record's float columns, every taken record's
  const [mant, recMask, mask] = [31, 32, 33]
  // f64: the value; i64 scratch
  const v = 34
  const v64 = 35

  const byteAt = (index: ReadonlyArray<number>) => [...op.get(buf), ...index, ...op.add, ...op.i32Load8U(0)]
  const isDigit = (into: number, at: number) => [
    // into = byte − '0'; a digit when it is below 10 (unsigned)
    ...byteAt(op.get(at)),
    ...op.i32(48),
    ...op.sub,
    ...op.tee(into),
    ...op.i32(10),
    ...op.ltU
  ]
  const inc = (local: number, by = 1) => [...op.get(local), ...op.i32(by), ...op.add, ...op.set(local)]
  // mant = mant·10 + d while it stays below 2^53 (an exact integer); past that, inexact (the reader's slow path)
  const pushDigit = () => [
    ...op.get(mant),
    ...op.i64(10),
    ...op.i64Mul,
    ...op.get(d),
    ...op.i64ExtendI32U,
    ...op.i64Add,
    ...op.tee(v64),
    ...op.i64(53),
    ...op.i64ShrU,
    ...op.i64Eqz,
    ...op.get(inexact),
    ...op.eqz,
    ...op.and,
    ...op.ifThen,
    ...op.get(v64),
    ...op.set(mant),
    ...op.else,
    ...op.i32(1),
    ...op.set(inexact),
    ...op.end
  ]
  // whether the byte left on the stack is x or y (c holds it afterwards)
  const isEither = (x: number, y: number) => [
    ...op.tee(c),
    ...op.i32(x),
    ...op.eq,
    ...op.get(c),
    ...op.i32(y),
    ...op.eq,
    ...op.or
  ]
  // an optional '-' or '+' at s: negative = 1 for '-', s past it (s < e checked by the caller)
  const sign = (negative: number) => [
    ...op.i32(0),
    ...op.set(negative),
    ...byteAt(op.get(s)),
    ...isEither(MINUS, PLUS),
    ...op.ifThen,
    ...op.get(c),
    ...op.i32(MINUS),
    ...op.eq,
    ...op.set(negative),
    ...inc(s),
    ...op.end
  ]
  // digits from s while there are: each counted and pushed into the mantissa (leading zeros skipped), then
  // `after` (the fraction lowers the exponent)
  const digitRun = (after: ReadonlyArray<number>) => [
    ...op.block,
    ...op.loop,
    ...op.get(s),
    ...op.get(e),
    ...op.geU,
    ...op.brIf(1),
    ...isDigit(d, s),
    ...op.eqz,
    ...op.brIf(1),
    ...inc(digits),
    ...op.get(mant),
    ...op.i64Eqz,
    ...op.eqz,
    ...op.get(d),
    ...op.or,
    ...op.ifThen,
    ...pushDigit(),
    ...op.end,
    ...after,
    ...inc(s),
    ...op.br(0),
    ...op.end,
    ...op.end
  ]
  // the number in [s, e) into v (depth: of the outermost block, seen from the start of this code)
  const number = (depth: number): Array<number> => [
    // blanks trimmed at both ends
    ...op.block,
    ...op.loop,
    ...op.get(s),
    ...op.get(e),
    ...op.geU,
    ...op.brIf(1),
    ...byteAt(op.get(s)),
    ...isEither(SPACE, TAB),
    ...op.eqz,
    ...op.brIf(1),
    ...inc(s),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.block,
    ...op.loop,
    ...op.get(e),
    ...op.get(s),
    ...op.leU,
    ...op.brIf(1),
    ...byteAt([...op.get(e), ...op.i32(1), ...op.sub]),
    ...isEither(SPACE, TAB),
    ...op.eqz,
    ...op.brIf(1),
    ...op.get(e),
    ...op.i32(1),
    ...op.sub,
    ...op.set(e),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // blank: the reader counts it as missing
    ...op.get(s),
    ...op.get(e),
    ...op.eq,
    ...op.brIf(depth),
    ...op.get(s),
    ...op.set(s0),
    ...op.i32(0),
    ...op.set(inexact),
    ...sign(neg),
    ...op.i64(0),
    ...op.set(mant),
    ...op.i32(0),
    ...op.set(exp10),
    ...op.i32(0),
    ...op.set(digits),
    ...op.i32(0),
    ...op.set(isFloat),
    // integer digits
    ...digitRun([]),
    // fraction digits: each one lowers the exponent
    ...op.get(s),
    ...op.get(e),
    ...op.ltU,
    ...op.ifThen,
    ...byteAt(op.get(s)),
    ...op.i32(DOT),
    ...op.eq,
    ...op.ifThen,
    ...op.i32(1),
    ...op.set(isFloat),
    ...inc(s),
    ...digitRun([...op.get(exp10), ...op.i32(1), ...op.sub, ...op.set(exp10)]),
    ...op.end,
    ...op.end,
    // no digit at all: not a number
    ...op.get(digits),
    ...op.eqz,
    ...op.brIf(depth),
    // exponent
    ...op.get(s),
    ...op.get(e),
    ...op.ltU,
    ...op.ifThen,
    ...byteAt(op.get(s)),
    ...op.i32(32),
    ...op.or,
    ...op.i32(101),
    ...op.eq,
    ...op.ifThen,
    ...op.i32(1),
    ...op.set(isFloat),
    ...inc(s),
    ...op.i32(0),
    ...op.set(eneg),
    ...op.get(s),
    ...op.get(e),
    ...op.ltU,
    ...op.ifThen,
    ...sign(eneg),
    ...op.end,
    ...op.i32(0),
    ...op.set(ex),
    ...op.i32(0),
    ...op.set(ed),
    ...op.block,
    ...op.loop,
    ...op.get(s),
    ...op.get(e),
    ...op.geU,
    ...op.brIf(1),
    ...isDigit(d, s),
    ...op.eqz,
    ...op.brIf(1),
    ...op.get(ex),
    ...op.i32(100_000),
    ...op.ltS,
    ...op.ifThen,
    ...op.get(ex),
    ...op.i32(10),
    ...op.mul,
    ...op.get(d),
    ...op.add,
    ...op.set(ex),
    ...op.end,
    ...inc(ed),
    ...inc(s),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.get(ed),
    ...op.eqz,
    ...op.brIf(depth + 2),
    ...op.get(exp10),
    ...op.i32(0),
    ...op.get(ex),
    ...op.sub,
    ...op.get(ex),
    ...op.get(eneg),
    ...op.select,
    ...op.add,
    ...op.set(exp10),
    ...op.end,
    ...op.end,
    // the whole field must be the number
    ...op.get(s),
    ...op.get(e),
    ...op.ne,
    ...op.brIf(depth),
    // the value: 0, or the exact mantissa times or over an exact power of ten; else (inexact, or beyond
    // 1e±22) a fix-up (column, record, the token's bytes) for the reader's slow path (its Number()), or,
    // when fixMax of them are pending, the record is left to the reader
    ...op.get(inexact),
    ...op.get(mant),
    ...op.i64Eqz,
    ...op.eqz,
    ...op.get(exp10),
    ...op.i32(22),
    ...op.gtS,
    ...op.get(exp10),
    ...op.i32(-22),
    ...op.ltS,
    ...op.or,
    ...op.and,
    ...op.or,
    ...op.ifThen,
    ...op.get(nFix),
    ...op.get(fixMax),
    ...op.geU,
    ...op.brIf(depth + 1),
    ...op.get(fix),
    ...op.get(nFix),
    ...op.i32(4),
    ...op.shl,
    ...op.add,
    ...op.tee(c),
    ...op.get(col),
    ...op.i32Store(0),
    ...op.get(c),
    ...op.get(rec),
    ...op.i32Store(4),
    ...op.get(c),
    ...op.get(s0),
    ...op.i32Store(8),
    ...op.get(c),
    ...op.get(e),
    ...op.i32Store(12),
    ...inc(nFix),
    ...op.f64(0),
    ...op.set(v),
    ...op.else,
    ...op.get(mant),
    ...op.i64Eqz,
    ...op.ifThen,
    ...op.f64(0),
    ...op.set(v),
    ...op.else,
    ...op.get(exp10),
    ...op.i32(0),
    ...op.geS,
    ...op.ifThen,
    ...op.get(mant),
    ...op.f64ConvertI64U,
    ...op.get(pow10),
    ...op.get(exp10),
    ...op.i32(3),
    ...op.shl,
    ...op.add,
    ...op.f64Load(0),
    ...op.f64Mul,
    ...op.set(v),
    ...op.else,
    ...op.get(mant),
    ...op.f64ConvertI64U,
    ...op.get(pow10),
    ...op.i32(0),
    ...op.get(exp10),
    ...op.sub,
    ...op.i32(3),
    ...op.shl,
    ...op.add,
    ...op.f64Load(0),
    ...op.f64Div,
    ...op.set(v),
    ...op.end,
    ...op.end,
    ...op.end,
    ...op.get(neg),
    ...op.ifThen,
    ...op.get(v),
    ...op.f64Neg,
    ...op.set(v),
    ...op.end
  ]

  // block depths inside a record: 0 record loop's block "done" (outermost) ... see the layout below
  const body = [
    ...op.i32(0),
    ...op.set(rec),
    ...op.i64(0),
    ...op.set(mask),
    // block $done
    ...op.block,
    // loop $record
    ...op.loop,
    ...op.get(rec),
    ...op.get(maxRows),
    ...op.geU,
    ...op.brIf(1),
    ...op.get(pos),
    ...op.tee(p),
    ...op.set(recStart),
    ...op.i32(0),
    ...op.set(col),
    ...op.i64(0),
    ...op.set(recMask),
    ...op.get(fixDone),
    ...op.set(nFix),
    // loop $field
    ...op.loop,
    ...op.get(p),
    ...op.set(s),
    // the field runs to a comma, LF or CR; a quote anywhere, or the end of the buffer, is the reader's
    ...op.block,
    ...op.loop,
    ...op.get(p),
    ...op.get(len),
    ...op.geU,
    ...op.brIf(4),
    ...byteAt(op.get(p)),
    ...isEither(COMMA, LF),
    ...op.get(c),
    ...op.i32(CR),
    ...op.eq,
    ...op.or,
    ...op.brIf(1),
    ...op.get(c),
    ...op.i32(QUOTE),
    ...op.eq,
    ...op.brIf(4),
    ...inc(p),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // too many fields
    ...op.get(col),
    ...op.get(nCols),
    ...op.geU,
    ...op.brIf(2),
    ...op.get(p),
    ...op.set(e),
    // a column read: its number to out[col·stride + rec], its float bit to recMask
    ...op.get(kinds),
    ...op.get(col),
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.i32Load(0),
    ...op.ifThen,
    // depths from here: if (0), field loop (1), record loop (2), done (3)
    ...number(3),
    ...op.get(out),
    ...op.get(col),
    ...op.get(stride),
    ...op.mul,
    ...op.get(rec),
    ...op.add,
    ...op.i32(3),
    ...op.shl,
    ...op.add,
    ...op.get(v),
    ...op.f64Store(0),
    ...op.get(isFloat),
    ...op.ifThen,
    ...op.get(recMask),
    ...op.i64(1),
    ...op.get(col),
    ...op.i64ExtendI32U,
    ...op.i64Shl,
    ...op.i64Or,
    ...op.set(recMask),
    ...op.end,
    ...op.end,
    ...inc(col),
    // what ended the field
    ...byteAt(op.get(p)),
    ...op.tee(c),
    ...op.i32(COMMA),
    ...op.eq,
    ...op.ifThen,
    ...inc(p),
    ...op.br(1),
    ...op.end,
    ...op.get(c),
    ...op.i32(CR),
    ...op.eq,
    ...op.ifThen,
    // CR LF ends the record; a lone CR (or one at the end of the buffer) is the reader's
    ...op.get(p),
    ...op.i32(1),
    ...op.add,
    ...op.get(len),
    ...op.geU,
    ...op.brIf(3),
    ...byteAt([...op.get(p), ...op.i32(1), ...op.add]),
    ...op.i32(LF),
    ...op.ne,
    ...op.brIf(3),
    ...inc(p),
    ...op.end,
    ...inc(p),
    // end of the record: exactly nCols fields, and not an empty line (one field, empty: the reader skips it)
    ...op.get(col),
    ...op.get(nCols),
    ...op.ne,
    ...op.brIf(2),
    ...op.get(e),
    ...op.get(recStart),
    ...op.eq,
    ...op.get(nCols),
    ...op.i32(1),
    ...op.eq,
    ...op.and,
    ...op.brIf(2),
    // taken
    ...op.get(p),
    ...op.set(pos),
    ...op.get(nFix),
    ...op.set(fixDone),
    ...op.get(mask),
    ...op.get(recMask),
    ...op.i64Or,
    ...op.set(mask),
    ...inc(rec),
    ...op.br(1),
    ...op.end,
    ...op.end,
    ...op.end,
    ...op.get(result),
    ...op.get(pos),
    ...op.i32Store(0),
    ...op.get(result),
    ...op.get(fixDone),
    ...op.i32Store(4),
    ...op.get(result),
    ...op.get(mask),
    ...op.i64Store(8),
    ...op.get(rec)
  ]
  return {
    name: "records",
    params: 12,
    results: [I32],
    locals: [
      [19, I32],
      [3, I64],
      [1, F64],
      [1, I64]
    ],
    body
  }
}

/** The lane, compiled once per thread; null where WebAssembly is not available. */
interface Lane {
  readonly memory: WasmMemory
  readonly records: (...args: Array<number>) => number
}
let lane: Lane | null | undefined

/** The largest buffer the lane copies in (positions stay far below 2^31). */
const MAX_BUFFER = 64 << 20
/** Records one call takes at most: the numbers' staging area stays small (and the memory with it). */
const BATCH = 16_384
/** Fix-ups one call may hold: tokens for the reader's slow path (16 bytes each). */
const FIX_MAX = 4096
/** Where the fix-ups start: after the result (16 bytes), pow10 (23 doubles) and kinds (64 int32). */
const FIX_AT = 16 + 23 * 8 + 64 * 4
/** Bytes before the buffer's copy. */
const HEAD = FIX_AT + FIX_MAX * 16

const compiled = (): Lane | null => {
  if (lane === undefined) {
    lane = null
    try {
      if (wasmApi !== undefined) {
        const memory = new wasmApi.Memory({ initial: 1 })
        const e = new wasmApi.Instance(new wasmApi.Module(assemble([recordsFn()])), { m: { memory } }).exports as {
          records: (...args: Array<number>) => number
        }
        lane = { memory, records: e.records }
      }
    } catch {
      lane = null
    }
  }
  return lane
}

/** Exact powers of ten 1e0 … 1e22, as the reader's POW10. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`))

/** Records the lane took: count, where the next record starts, and the columns that had a float's syntax. */
export interface LaneResult {
  readonly records: number
  readonly end: number
  /** Bit c: column c had a '.' or an exponent. */
  readonly floats: bigint
  /** Column c's numbers at values[c · stride ..] (a view of the lane's memory: copy them out before the next call). */
  readonly values: Float64Array
  readonly stride: number
  /**
   * Cells whose number needs the reader's slow path (more significant digits than a double holds exactly,
   * or a power of ten beyond 1e±22): column, record, and the token's bytes [start, end) in the buffer (its
   * blanks trimmed, its sign included), four int32 each; values holds 0 there.
   */
  readonly fixups: Int32Array
}

/** One buffer copied into the lane's memory, read from any position (see `laneFor`). */
export interface LaneSession {
  /**
   * Whole plain records from `pos` (see the file's comment), at most `maxRows`; `kinds[c]` 1 for a column
   * read as numbers, 0 for one skipped.
   */
  readonly records: (pos: number, maxRows: number) => LaneResult
}

/**
 * The lane over `buf` for records of `kinds.length` fields (at most 64), the buffer copied into its memory
 * once; null where WebAssembly is not available or the memory cannot grow.
 */
export const laneFor = (buf: Uint8Array, kinds: ReadonlyArray<number>): LaneSession | null => {
  const l = compiled()
  const nCols = kinds.length
  // a buffer is a chunk (1–4 MiB) and the carry of an unfinished record; a far larger one (a quote that
  // never closes, carried from chunk to chunk) is not copied into the lane's memory, which would stay that size
  if (l === null || nCols > 64 || nCols === 0 || buf.length > MAX_BUFFER) return null
  const bufAt = HEAD
  const outAt = Math.ceil((bufAt + buf.length) / 8) * 8
  // at most one record per nCols bytes (nCols − 1 commas and a line end), and BATCH a call
  const most = Math.min(BATCH, Math.floor(buf.length / nCols))
  const need = outAt + nCols * most * 8
  const memory = l.memory
  if (memory.buffer.byteLength < need) {
    try {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65_536))
    } catch {
      return null
    }
  }
  const mem = memory.buffer
  new Float64Array(mem, 16, 23).set(POW10)
  new Int32Array(mem, 16 + 23 * 8, nCols).set(kinds)
  new Uint8Array(mem, bufAt, buf.length).set(buf)
  return {
    records: (pos, maxRows) => {
      const stride = Math.max(0, Math.min(maxRows, most, Math.floor((buf.length - pos) / nCols)))
      // positions are addresses here (buf 0): the copy starts at bufAt
      const n =
        stride === 0
          ? 0
          : l.records(
              0,
              bufAt + pos,
              bufAt + buf.length,
              nCols,
              16 + 23 * 8,
              outAt,
              stride,
              stride,
              16,
              0,
              FIX_AT,
              FIX_MAX
            )
      const head = new DataView(mem, 0, 16)
      const fixups = new Int32Array(mem, FIX_AT, n === 0 ? 0 : 4 * head.getInt32(4, true))
      // token positions back to offsets in buf
      for (let f = 2; f < fixups.length; f += 4) {
        fixups[f] = fixups[f]! - bufAt
        fixups[f + 1] = fixups[f + 1]! - bufAt
      }
      return {
        records: n,
        end: n === 0 ? pos : head.getInt32(0, true) - bufAt,
        floats: n === 0 ? 0n : head.getBigUint64(8, true),
        values: new Float64Array(mem, outAt, nCols * stride),
        stride,
        fixups
      }
    }
  }
}
