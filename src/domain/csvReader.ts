import type { Violation } from "./errors.js"
import type { ColumnTable, TableColumn } from "./columnTable.js"
import { PANDAS_DEFAULT_NA } from "./missing.js"
import { laneFor, type LaneSession } from "./csvWasm.js"

/**
 * A streaming, byte-level RFC 4180 reader that builds typed columns directly (see columnTable.ts):
 * quoted fields, "" escapes, embedded newlines, CRLF (and lone CR), a leading UTF-8 BOM, empty
 * lines skipped. Push the file's bytes chunk by chunk (hash the same chunks for the dataset
 * version: one pass), then `finish()`. The file is never held as a JS string; a string is made
 * once per distinct value of a string column, never per cell.
 *
 * Numbers: a token whose significant digits make an integer below 2^53 (every 15-digit one, most
 * 16-digit ones) with a power of ten of at most 22 is exact by one multiplication or division
 * (Clinger's fast path); any other number falls back to Number() on the token, which rounds
 * correctly. A column starts numeric and switches to a string column at its
 * first non-numeric, non-missing token; when numbers came before that token, their text is gone,
 * so the column is named in `reread` and a second pass (`stringColumns` + `onlyColumns`) reads it.
 */

/** pandas' default missing-value tokens, as a set (the one list is domain/missing.ts's). */
export const PANDAS_NA_VALUES: ReadonlySet<string> = new Set(PANDAS_DEFAULT_NA)

export interface TokenOptions {
  /** Tokens read as missing (an empty or blank cell always is); domain/missing.ts's MissingRule.tokens. */
  readonly naValues: ReadonlySet<string>
  /** Declared missing tokens that are numbers: the same number written otherwise is missing too ("-999.0"). */
  readonly naNumbers?: ReadonlySet<number>
}

/**
 * The missing-value rule, in one place so the whole data path shares it: a blank cell or one of
 * `naValues`, compared exactly (quoted or not, as pandas does), or a number among `naNumbers`.
 */
export const isMissingToken = (token: string, options: TokenOptions): boolean => {
  if (options.naValues.has(token) || token.trim() === "") return true
  if (options.naNumbers === undefined || options.naNumbers.size === 0) return false
  const b = new TextEncoder().encode(token)
  const v = parseNumber(b, 0, b.length)
  return (lastKind === INT_SYNTAX || lastKind === FLOAT_SYNTAX) && options.naNumbers.has(v)
}

export interface CsvReadOptions extends TokenOptions {
  /** Columns read as strings from the first row (declared string / bool). */
  readonly stringColumns?: ReadonlySet<string>
  /** Columns declared numeric: a non-numeric token is a dtype violation and a missing cell, never a switch. */
  readonly numericColumns?: ReadonlySet<string>
  /** Read only these columns (the others are tokenised and dropped). */
  readonly onlyColumns?: ReadonlySet<string>
  /** Expected size of the input in bytes, to size the columns once instead of doubling them. */
  readonly sizeHint?: number
  /** How many offending lines a violation lists (all are counted). */
  readonly maxRowsListed?: number
  /** false: no compiled lane (csvWasm.ts), every record through the JavaScript loop (tests compare the two). */
  readonly wasm?: boolean
}

export interface ColumnReadInfo {
  readonly name: string
  /** Every non-missing token was an integer literal (no '.', no exponent). */
  readonly intLike: boolean
  readonly missing: number
  /** Declared numeric columns: tokens that are not numbers (counted as missing too). */
  readonly notNumeric: number
  /** The first such token, and the lines of the first ones (`maxRowsListed`). */
  readonly notNumericExample: string
  readonly notNumericLines: ReadonlyArray<number>
  /** Each token read as missing in this column ("" for blank cells): how many, and the first lines. */
  readonly missingTally: ReadonlyMap<string, { count: number; rows: number[] }>
}

export interface CsvReadResult {
  readonly header: ReadonlyArray<string>
  /** Columns read, in header order (numeric ones as "float" or "int" by `intLike`). */
  readonly table: ColumnTable
  /** Line of each row (header = line 1), or null when row i is on line i + 2. */
  readonly lines: Int32Array | null
  readonly info: ReadonlyArray<ColumnReadInfo>
  /** Tokens read as missing, with counts over all columns read. */
  readonly missingTokens: ReadonlyMap<string, number>
  readonly violations: ReadonlyArray<Violation>
  /** Columns that turned into strings after numbers: read them again with `stringColumns`. */
  readonly reread: ReadonlyArray<string>
}

const QUOTE = 34,
  COMMA = 44,
  LF = 10,
  CR = 13,
  SPACE = 32,
  TAB = 9

const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`))

/** Kind of the last token parseNumber saw. */
const NOT_NUMBER = 0,
  INT_SYNTAX = 1,
  FLOAT_SYNTAX = 2,
  BLANK = 3
let lastKind = NOT_NUMBER
const latin1 = new TextDecoder("latin1")
const utf8 = new TextDecoder("utf-8")

/** 2^53 - 1: integers up to it are exact doubles. */
const MAX_EXACT = 9007199254740991

/**
 * Parses bytes [s, e) as a decimal number (leading/trailing blanks allowed, optional sign, digits
 * with an optional '.', optional exponent); sets lastKind.
 */
const parseNumber = (b: Uint8Array, s: number, e: number): number => {
  while (s < e && (b[s] === SPACE || b[s] === TAB)) s++
  while (e > s && (b[e - 1] === SPACE || b[e - 1] === TAB)) e--
  if (s === e) {
    lastKind = BLANK
    return NaN
  }
  const s0 = s
  let neg = false
  const c0 = b[s]!
  if (c0 === 45) {
    neg = true
    s++
  } else if (c0 === 43) s++
  // mant holds the significant digits while it stays an exact integer (below 2^53: 15 digits always, 16
  // often); a digit that would not fit is dropped and `inexact` sends the token to the slow path
  let mant = 0,
    inexact = false,
    exp10 = 0,
    digits = 0,
    float = false
  let c: number
  while (s < e && (c = b[s]! - 48) >= 0 && c <= 9) {
    digits++
    if (mant !== 0 || c !== 0) {
      const next = mant * 10 + c
      if (!inexact && next <= MAX_EXACT) mant = next
      else {
        inexact = true
        exp10++
      }
    }
    s++
  }
  if (s < e && b[s] === 46) {
    float = true
    s++
    while (s < e && (c = b[s]! - 48) >= 0 && c <= 9) {
      digits++
      if (mant !== 0 || c !== 0) {
        const next = mant * 10 + c
        if (!inexact && next <= MAX_EXACT) {
          mant = next
          exp10--
        } else inexact = true
      } else exp10--
      s++
    }
  }
  if (digits === 0) {
    lastKind = NOT_NUMBER
    return NaN
  }
  if (s < e && (b[s] === 101 || b[s] === 69)) {
    float = true
    s++
    let eneg = false
    if (s < e && (b[s] === 45 || b[s] === 43)) {
      eneg = b[s] === 45
      s++
    }
    let ex = 0,
      ed = 0
    while (s < e && (c = b[s]! - 48) >= 0 && c <= 9) {
      if (ex < 100000) ex = ex * 10 + c
      ed++
      s++
    }
    if (ed === 0) {
      lastKind = NOT_NUMBER
      return NaN
    }
    exp10 += eneg ? -ex : ex
  }
  if (s !== e) {
    lastKind = NOT_NUMBER
    return NaN
  }
  lastKind = float ? FLOAT_SYNTAX : INT_SYNTAX
  let v: number
  // Clinger's fast path: an exact integer times or over an exact power of ten is correctly rounded
  if (inexact) v = slowNumber(b, s0, e)
  else if (mant === 0) v = 0
  else if (exp10 >= 0 && exp10 <= 22) v = mant * POW10[exp10]!
  else if (exp10 < 0 && exp10 >= -22) v = mant / POW10[-exp10]!
  else v = slowNumber(b, s0, e)
  return neg ? -v : v
}

/** Number() on the token's text: correctly rounded where the fast path is not exact (sign included, so negate nothing). */
const slowNumber = (b: Uint8Array, s: number, e: number): number => {
  let t = ""
  if (e - s <= 40) for (let i = s; i < e; i++) t += String.fromCharCode(b[i]!)
  else t = latin1.decode(b.subarray(s, e))
  return Math.abs(Number(t))
}

/** Distinct byte strings of one column → dictionary codes, without a string per cell. */
class ByteDictionary {
  private arena = new Uint8Array(4096)
  private used = 0
  private offs = new Int32Array(64)
  private lens = new Int32Array(64)
  private hashes = new Int32Array(64)
  /** Code of each entry: index into `values`, or -1 for a missing token. */
  private entryCode = new Int32Array(64)
  entryCount = new Float64Array(64)
  private entries = 0
  /** The entry the last `code` call found or added (to name the token of a missing cell). */
  lastEntry = -1
  private table = new Int32Array(256).fill(-1)
  readonly values: string[] = []
  readonly missingTokens: string[] = []
  readonly tokens: string[] = []

  constructor(private readonly options: TokenOptions) {}

  code(b: Uint8Array, s: number, e: number): number {
    let h = 0x811c9dc5 | 0
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 16777619)
    const mask = this.table.length - 1
    let slot = h & mask
    for (;;) {
      const k = this.table[slot]!
      if (k < 0) break
      if (this.hashes[k] === h && this.lens[k] === e - s) {
        const o = this.offs[k]!
        let same = true
        for (let i = 0; i < e - s; i++)
          if (this.arena[o + i] !== b[s + i]) {
            same = false
            break
          }
        if (same) {
          this.entryCount[k]!++
          this.lastEntry = k
          return this.entryCode[k]!
        }
      }
      slot = (slot + 1) & mask
    }
    return this.add(b, s, e, h, slot)
  }

  private add(b: Uint8Array, s: number, e: number, h: number, slot: number): number {
    const len = e - s
    if (this.used + len > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, this.used + len))
      a.set(this.arena.subarray(0, this.used))
      this.arena = a
    }
    if (this.entries === this.offs.length) {
      const grow = <T extends Int32Array | Float64Array>(x: T): T => {
        const y = new (x.constructor as new (n: number) => T)(x.length * 2)
        y.set(x)
        return y
      }
      this.offs = grow(this.offs)
      this.lens = grow(this.lens)
      this.hashes = grow(this.hashes)
      this.entryCode = grow(this.entryCode)
      this.entryCount = grow(this.entryCount)
    }
    const k = this.entries++
    this.lastEntry = k
    this.arena.set(b.subarray(s, e), this.used)
    this.offs[k] = this.used
    this.lens[k] = len
    this.hashes[k] = h
    this.used += len
    const token = utf8.decode(b.subarray(s, e))
    this.tokens.push(token)
    let code: number
    if (isMissingToken(token, this.options)) code = -1
    else {
      code = this.values.length
      this.values.push(token)
    }
    this.entryCode[k] = code
    this.entryCount[k] = 1
    this.table[slot] = k
    if (this.entries * 2 > this.table.length) this.rehash()
    return code
  }

  private rehash(): void {
    const t = new Int32Array(this.table.length * 2).fill(-1)
    const mask = t.length - 1
    for (let k = 0; k < this.entries; k++) {
      let slot = this.hashes[k]! & mask
      while (t[slot]! >= 0) slot = (slot + 1) & mask
      t[slot] = k
    }
    this.table = t
  }

  /** Missing tokens seen, with their counts. */
  missingCounts(into: Map<string, number>): number {
    let total = 0
    for (let k = 0; k < this.entries; k++) {
      if (this.entryCode[k]! < 0) {
        const n = this.entryCount[k]!
        into.set(this.tokens[k]!, (into.get(this.tokens[k]!) ?? 0) + n)
        total += n
      }
    }
    return total
  }
}

const MODE_NUMBER = 0,
  MODE_STRING = 1

class ColumnBuilder {
  mode: number
  values: Float64Array | null = null
  codes: Int32Array | null = null
  dict: ByteDictionary | null = null
  intLike = true
  numbers = 0
  missingNumeric = 0
  readonly numericMissingTokens = new Map<string, number>()
  notNumeric = 0
  notNumericExample = ""
  readonly notNumericLines: number[] = []
  readonly tally = new Map<string, { count: number; rows: number[] }>()
  needsReread = false

  constructor(
    readonly name: string,
    readonly declaredNumeric: boolean,
    asString: boolean,
    capacity: number,
    private readonly options: TokenOptions
  ) {
    this.mode = asString ? MODE_STRING : MODE_NUMBER
    if (asString) {
      this.codes = new Int32Array(capacity)
      this.dict = new ByteDictionary(options)
    } else this.values = new Float64Array(capacity)
  }

  grow(capacity: number): void {
    if (this.values !== null) {
      const v = new Float64Array(capacity)
      v.set(this.values)
      this.values = v
    }
    if (this.codes !== null) {
      const c = new Int32Array(capacity)
      c.set(this.codes)
      this.codes = c
    }
  }

  /** Counts a missing cell under its token (blank cells as ""), keeping the first lines. */
  private note(token: string, line: number, maxListed: number): void {
    const key = token.trim() === "" ? "" : token
    const t = this.tally.get(key)
    if (t === undefined) this.tally.set(key, { count: 1, rows: [line] })
    else if (t.count++ < maxListed) t.rows.push(line)
  }

  /** Stores the cell of row `row` from bytes [s, e); `line` is for violations only. */
  put(b: Uint8Array, s: number, e: number, row: number, line: number, maxListed: number): void {
    if (this.mode === MODE_STRING) {
      const code = this.dict!.code(b, s, e)
      this.codes![row] = code
      if (code < 0) this.note(this.dict!.tokens[this.dict!.lastEntry]!, line, maxListed)
      return
    }
    const v = parseNumber(b, s, e)
    const kind = lastKind
    if (kind === INT_SYNTAX || kind === FLOAT_SYNTAX) {
      const na = this.options.naNumbers
      if (na !== undefined && na.size > 0 && na.has(v)) {
        const token = utf8.decode(b.subarray(s, e))
        this.values![row] = NaN
        this.missingNumeric++
        this.numericMissingTokens.set(token, (this.numericMissingTokens.get(token) ?? 0) + 1)
        this.note(token, line, maxListed)
        return
      }
      this.values![row] = v
      this.numbers++
      if (kind === FLOAT_SYNTAX) this.intLike = false
      return
    }
    if (kind === BLANK) {
      this.values![row] = NaN
      this.missingNumeric++
      this.numericMissingTokens.set("", (this.numericMissingTokens.get("") ?? 0) + 1)
      this.note("", line, maxListed)
      return
    }
    const token = utf8.decode(b.subarray(s, e))
    if (isMissingToken(token, this.options)) {
      this.values![row] = NaN
      this.missingNumeric++
      this.numericMissingTokens.set(token, (this.numericMissingTokens.get(token) ?? 0) + 1)
      this.note(token, line, maxListed)
      return
    }
    if (this.declaredNumeric) {
      this.values![row] = NaN
      if (this.notNumeric++ === 0) this.notNumericExample = token
      if (this.notNumericLines.length < maxListed) this.notNumericLines.push(line)
      return
    }
    this.switchToString(row)
    this.codes![row] = this.dict!.code(b, s, e)
  }

  private switchToString(row: number): void {
    const capacity = this.values!.length
    this.mode = MODE_STRING
    this.codes = new Int32Array(capacity).fill(-1, 0, row)
    this.dict = new ByteDictionary(this.options)
    this.needsReread = this.numbers > 0
    this.values = null
  }

  column(rows: number): TableColumn {
    if (this.mode === MODE_STRING) {
      return { name: this.name, dtype: "string", codes: fit(this.codes!, rows), dictionary: this.dict!.values }
    }
    return { name: this.name, dtype: this.intLike ? "int" : "float", values: fit(this.values!, rows) }
  }

  missingTotal(into: Map<string, number>): number {
    let total = 0
    if (this.mode === MODE_STRING) total += this.dict!.missingCounts(into)
    else {
      for (const [k, n] of this.numericMissingTokens) {
        into.set(k, (into.get(k) ?? 0) + n)
        total += n
      }
    }
    return total
  }
}

/** A typed array trimmed to `rows`: a view when little would be wasted, else a copy. */
const fit = <T extends Float64Array | Int32Array>(a: T, rows: number): T =>
  (a.length - rows <= (rows >> 4) + 1024 ? a.subarray(0, rows) : a.slice(0, rows)) as T

/** Where field k of the current record lies in the buffer; bit 0 of flags: quoted with "" escapes. */
interface FieldSpans {
  starts: Int32Array
  ends: Int32Array
  escaped: Uint8Array
}

/** Records the JavaScript loop reads before the lane is tried again after it took none. */
const LANE_BACKOFF = 64

let lanesTaken = 0
/** Records the compiled lane has read in this thread (tests check it is really used). */
export const recordsReadByLane = (): number => lanesTaken

export class CsvColumnReader {
  private carry: Uint8Array = new Uint8Array(0)
  private atStart = true
  private line = 1
  private header: string[] | null = null
  private cols: Array<ColumnBuilder | null> = []
  private capacity = 0
  private rows = 0
  private lines: Int32Array | null = null
  private readonly spans: FieldSpans = {
    starts: new Int32Array(64),
    ends: new Int32Array(64),
    escaped: new Uint8Array(64)
  }
  private scratch = new Uint8Array(256)
  private badCount = 0
  private readonly badLines: number[] = []
  private readonly syntax: Violation[] = []
  private readonly maxListed: number
  private bytesSeen = 0
  private estimated = false
  /** Records left to the JavaScript loop before the compiled lane is tried again (after it took none). */
  private laneBackoff = 0

  constructor(private readonly options: CsvReadOptions) {
    this.maxListed = options.maxRowsListed ?? 10
  }

  push(chunk: Uint8Array): void {
    this.bytesSeen += chunk.length
    let buf: Uint8Array
    // always a plain Uint8Array: a Buffer's other hidden class would make the parser's code polymorphic
    // (V8 de-optimises it when the next chunk, copied with the carry, is a plain Uint8Array)
    if (this.carry.length === 0) buf = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    else {
      buf = new Uint8Array(this.carry.length + chunk.length)
      buf.set(this.carry)
      buf.set(chunk, this.carry.length)
    }
    const used = this.parse(buf, false)
    // the unfinished record is copied out: `chunk` may be reused by the caller (and a Buffer's slice is a view)
    this.carry = used === buf.length ? new Uint8Array(0) : Uint8Array.prototype.slice.call(buf, used)
  }

  finish(): CsvReadResult {
    if (this.carry.length > 0) this.parse(this.carry, true)
    this.carry = new Uint8Array(0)
    const violations: Violation[] = [...this.syntax]
    const header = this.header ?? []
    if (this.header === null) {
      violations.push({
        column: null,
        rule: "non_empty",
        observed: "empty file",
        expected: "a header row and data rows",
        rows: []
      })
    } else {
      const seen = new Set<string>()
      header.forEach((h, i) => {
        if (h === "")
          violations.push({
            column: `#${i + 1}`,
            rule: "header",
            observed: "empty column name",
            expected: "a name for every column",
            rows: [1]
          })
        else if (seen.has(h))
          violations.push({
            column: h,
            rule: "duplicate_header",
            observed: `"${h}" appears more than once`,
            expected: "unique column names",
            rows: [1]
          })
        seen.add(h)
      })
      if (this.rows === 0 && this.badCount === 0)
        violations.push({
          column: null,
          rule: "non_empty",
          observed: "header only, no data rows",
          expected: "at least one data row",
          rows: []
        })
    }
    if (this.badCount > 0) {
      violations.push({
        column: null,
        rule: "column_count",
        observed: `${this.badCount} row(s) with a different number of cells`,
        expected: `${header.length} cells per row, as in the header`,
        rows: this.badLines
      })
    }
    const missingTokens = new Map<string, number>()
    const info: ColumnReadInfo[] = []
    const columns: TableColumn[] = []
    const reread: string[] = []
    for (const c of this.cols) {
      if (c === null) continue
      if (c.notNumeric > 0)
        violations.push({
          column: c.name,
          rule: "dtype",
          observed: `${c.notNumeric} value(s) that are not ${c.intLike ? "int" : "float"}, e.g. "${c.notNumericExample}"`,
          expected: "numbers (or a missing-value token)",
          rows: c.notNumericLines
        })
      if (c.needsReread) reread.push(c.name)
      // a re-read column's missing tokens are counted by the second pass
      const missing = c.needsReread ? 0 : c.missingTotal(missingTokens)
      info.push({
        name: c.name,
        intLike: c.mode === MODE_NUMBER && c.intLike,
        missing,
        notNumeric: c.notNumeric,
        notNumericExample: c.notNumericExample,
        notNumericLines: c.notNumericLines,
        missingTally: c.tally
      })
      columns.push(c.column(this.rows))
    }
    const lines = this.lines === null ? null : fit(this.lines, this.rows)
    return {
      header,
      table: { rows: this.rows, columns },
      lines,
      info,
      missingTokens,
      violations,
      reread
    }
  }

  private startColumns(header: string[]): void {
    const o = this.options
    this.capacity = 1024
    this.cols = header.map((h) =>
      o.onlyColumns !== undefined && !o.onlyColumns.has(h)
        ? null
        : new ColumnBuilder(
            h,
            o.numericColumns?.has(h) ?? false,
            o.stringColumns?.has(h) ?? false,
            this.capacity,
            this.options
          )
    )
  }

  /** More room; the first time, sized from the file size and the bytes per row so far (one copy instead of many). */
  private grow(offset: number): void {
    const hint = this.options.sizeHint
    const estimate =
      !this.estimated && hint !== undefined && hint > offset && this.rows > 0
        ? Math.ceil(((hint - offset) / (offset / this.rows)) * 1.05) + this.rows + 1024
        : 0
    this.estimated = true
    this.capacity = Math.max(estimate, Math.ceil(this.capacity * 1.5))
    for (const c of this.cols) c?.grow(this.capacity)
    if (this.lines !== null) {
      const l = new Int32Array(this.capacity)
      l.set(this.lines)
      this.lines = l
    }
  }

  private ensureSpans(k: number): void {
    if (k < this.spans.starts.length) return
    const n = this.spans.starts.length * 2
    const s = new Int32Array(n),
      e = new Int32Array(n),
      q = new Uint8Array(n)
    s.set(this.spans.starts)
    e.set(this.spans.ends)
    q.set(this.spans.escaped)
    this.spans.starts = s
    this.spans.ends = e
    this.spans.escaped = q
  }

  /** Parses whole records from buf; returns the offset where an unfinished record starts. */
  private parse(buf: Uint8Array, eof: boolean): number {
    let pos = 0
    const len = buf.length
    if (this.atStart) {
      if (len < 3 && !eof) return 0
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3
      this.atStart = false
    }
    const spans = this.spans
    // the compiled lane (csvWasm.ts) for plain records of numbers, this buffer copied into it once
    let lane: LaneSession | null | undefined
    for (;;) {
      if (pos >= len) return len
      if (this.laneBackoff > 0) this.laneBackoff--
      else if (
        lane !== null &&
        this.header !== null &&
        // the lane's records are one line each: only while every row so far is on line row + 2 (no table of lines)
        this.lines === null &&
        this.line === this.rows + 2 &&
        this.rows < this.capacity
      ) {
        // (again for each buffer, and once a column has turned into strings, not for the rest of this one)
        if (lane === undefined || (lane !== null && !this.allNumeric()))
          lane = this.allNumeric() ? this.startLane(buf) : null
        if (lane !== null) {
          const taken = this.takeLane(lane, buf, pos)
          if (taken === pos) this.laneBackoff = LANE_BACKOFF
          pos = taken
          if (pos >= len) return len
        }
      }
      const recStart = pos
      let p = pos
      let nf = 0
      let innerLines = 0
      let broken = false
      // scan one record's field boundaries
      for (;;) {
        this.ensureSpans(nf)
        if (p < len && buf[p] === QUOTE) {
          let q = p + 1
          let escaped = 0
          let closed = -1
          while (q < len) {
            const c = buf[q]!
            if (c === QUOTE) {
              if (q + 1 < len && buf[q + 1] === QUOTE) {
                escaped = 1
                q += 2
                continue
              }
              if (q + 1 >= len && !eof) break
              closed = q
              break
            }
            if (c === LF) innerLines++
            q++
          }
          if (closed < 0) {
            if (!eof) return recStart
            // unclosed quote at the end of the file
            this.syntax.push({
              column: null,
              rule: "csv_syntax",
              observed: `a quoted field opened at line ${this.line} is never closed (it runs to the end of the file)`,
              expected: "well-formed CSV (RFC 4180)",
              rows: [this.line]
            })
            this.line += innerLines + 1
            return len
          }
          spans.starts[nf] = p + 1
          spans.ends[nf] = closed
          spans.escaped[nf] = escaped
          p = closed + 1
          if (p < len && buf[p] !== COMMA && buf[p] !== LF && buf[p] !== CR) {
            // text after a closing quote: the record is malformed; skip to its end
            broken = true
            while (p < len && buf[p] !== LF) p++
            if (p >= len && !eof) return recStart
          }
        } else {
          const s = p
          while (p < len) {
            const c = buf[p]!
            if (c === COMMA || c === LF || c === CR) break
            p++
          }
          spans.starts[nf] = s
          spans.ends[nf] = p
          spans.escaped[nf] = 0
        }
        nf++
        if (p >= len) {
          if (!eof) return recStart
          break
        }
        const c = buf[p]!
        if (c === COMMA) {
          p++
          continue
        }
        if (c === CR) {
          if (p + 1 >= len && !eof) return recStart
          p += p + 1 < len && buf[p + 1] === LF ? 2 : 1
        } else p++
        break
      }
      pos = p
      const line = this.line
      this.line += 1 + innerLines
      // an empty line (one empty unquoted field) is skipped, as csv-parse and pandas do
      if (nf === 1 && spans.starts[0] === recStart && spans.ends[0] === recStart) continue
      if (this.header === null) {
        const names: string[] = []
        for (let k = 0; k < nf; k++) names.push(this.text(buf, k).trim())
        this.header = names
        this.startColumns(names)
        if (broken) this.noteBad(line)
        continue
      }
      if (broken || nf !== this.header.length) {
        this.noteBad(line)
        continue
      }
      if (this.rows === this.capacity) this.grow(this.bytesSeen - len + recStart)
      const row = this.rows++
      if (this.lines !== null) this.lines[row] = line
      else if (line !== row + 2) {
        this.lines = new Int32Array(this.capacity)
        for (let k = 0; k < row; k++) this.lines[k] = k + 2
        this.lines[row] = line
      }
      const cols = this.cols
      for (let k = 0; k < nf; k++) {
        const c = cols[k]
        if (c === null || c === undefined) continue
        if (spans.escaped[k] === 1) {
          const n = this.unescape(buf, spans.starts[k]!, spans.ends[k]!)
          c.put(this.scratch, 0, n, row, line, this.maxListed)
        } else c.put(buf, spans.starts[k]!, spans.ends[k]!, row, line, this.maxListed)
      }
    }
  }

  /**
   * The lane over this buffer (every column read must be read as numbers), unless numbers are declared
   * missing (the reader's own loop handles those); null where there is none.
   */
  private startLane(buf: Uint8Array): LaneSession | null {
    if (this.options.wasm === false) return null
    if (this.options.naNumbers !== undefined && this.options.naNumbers.size > 0) return null
    const kinds = this.cols.map((c) => (c === null ? 0 : 1))
    return kinds.includes(1) ? laneFor(buf, kinds) : null
  }

  /** Whether every column read is still read as numbers. */
  private allNumeric(): boolean {
    for (const c of this.cols) if (c !== null && c.mode !== MODE_NUMBER) return false
    return true
  }

  /** Lets the lane take the records it can from `pos`; returns where the next record starts. */
  private takeLane(lane: LaneSession, buf: Uint8Array, pos: number): number {
    const r = lane.records(pos, this.capacity - this.rows)
    const n = r.records
    if (n === 0) return pos
    for (let k = 0; k < this.cols.length; k++) {
      const c = this.cols[k]
      if (c === null || c === undefined) continue
      c.values!.set(r.values.subarray(k * r.stride, k * r.stride + n), this.rows)
      c.numbers += n
      if (((r.floats >> BigInt(k)) & 1n) === 1n) c.intLike = false
    }
    // the numbers the lane left to the slow path, as parseNumber takes it
    const f = r.fixups
    for (let q = 0; q < f.length; q += 4) {
      const s = f[q + 2]!
      const v = slowNumber(buf, s, f[q + 3]!)
      this.cols[f[q]!]!.values![this.rows + f[q + 1]!] = buf[s] === 45 ? -v : v
    }
    // one line each (a plain record has no quoted line break), so the lines still need no table
    this.rows += n
    this.line += n
    lanesTaken += n
    return r.end
  }

  private noteBad(line: number): void {
    if (this.badCount++ < this.maxListed) this.badLines.push(line)
  }

  /** Copies a quoted field's content into scratch with "" turned into "; returns its length. */
  private unescape(buf: Uint8Array, s: number, e: number): number {
    if (this.scratch.length < e - s) this.scratch = new Uint8Array((e - s) * 2)
    let n = 0
    for (let i = s; i < e; i++) {
      const c = buf[i]!
      this.scratch[n++] = c
      if (c === QUOTE) i++
    }
    return n
  }

  private text(buf: Uint8Array, k: number): string {
    const s = this.spans.starts[k]!,
      e = this.spans.ends[k]!
    if (this.spans.escaped[k] === 1) return utf8.decode(this.scratch.subarray(0, this.unescape(buf, s, e)))
    return utf8.decode(buf.subarray(s, e))
  }

  get bytes(): number {
    return this.bytesSeen
  }
}

/**
 * Reads a whole CSV from a re-readable source of byte chunks: one pass, plus a second pass over the
 * columns named in `reread` (only when a column turned into strings after numbers).
 */
export const readCsvChunks = (
  chunks: () => Iterable<Uint8Array>,
  options: CsvReadOptions,
  onChunk?: (chunk: Uint8Array) => void
): CsvReadResult => {
  const reader = new CsvColumnReader(options)
  for (const c of chunks()) {
    onChunk?.(c)
    reader.push(c)
  }
  const first = reader.finish()
  return first.reread.length === 0 ? first : mergeReread(first, rereadPass(chunks, options, first.reread))
}

/** The second pass over the columns that switched to strings. */
export const rereadPass = (
  chunks: () => Iterable<Uint8Array>,
  options: CsvReadOptions,
  names: ReadonlyArray<string>
): CsvReadResult => {
  const set = new Set(names)
  const reader = new CsvColumnReader({ ...options, stringColumns: set, onlyColumns: set })
  for (const c of chunks()) reader.push(c)
  return reader.finish()
}

/** Replaces the re-read columns (and their missing-token counts) of the first pass. */
export const mergeReread = (first: CsvReadResult, second: CsvReadResult): CsvReadResult => {
  const byName = new Map(second.table.columns.map((c) => [c.name, c]))
  const infoByName = new Map(second.info.map((i) => [i.name, i]))
  const missingTokens = new Map(first.missingTokens)
  for (const [k, n] of second.missingTokens) missingTokens.set(k, (missingTokens.get(k) ?? 0) + n)
  return {
    ...first,
    table: { rows: first.table.rows, columns: first.table.columns.map((c) => byName.get(c.name) ?? c) },
    info: first.info.map((i) => infoByName.get(i.name) ?? i),
    missingTokens,
    reread: []
  }
}

/** Reads CSV bytes held in memory (tests, small files), in 4 MiB pieces as a file would stream. */
export const readCsvBytes = (bytes: Uint8Array, options: CsvReadOptions): CsvReadResult =>
  readCsvChunks(
    function* () {
      const step = 1 << 22
      for (let o = 0; o < bytes.length; o += step) yield bytes.subarray(o, Math.min(bytes.length, o + step))
    },
    { ...options, sizeHint: options.sizeHint ?? bytes.length }
  )
