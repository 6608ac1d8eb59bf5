import { createHash } from "node:crypto"
import { type ColumnTable, isNumeric } from "../../domain/columnTable.js"
import { writeCsv } from "../../domain/table.js"

/** Rows stringified at a time: a staged part of a million rows is written in pieces, never one string. */
const ROWS_PER_PIECE = 16384
const LF = 0x0a
const encoder = new TextEncoder()

/** The column names on the raw file's first line (a leading BOM and quotes dropped, blanks trimmed). */
export const rawHeaderOf = (raw: Uint8Array): string[] => {
  const bom = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0
  const lf = raw.indexOf(LF, bom)
  const line = new TextDecoder().decode(raw.subarray(bom, lf < 0 ? raw.length : lf)).replace(/\r$/, "")
  return line.split(",").map((h) => h.trim().replace(/^"|"$/g, ""))
}

/**
 * CSV records (no header) of the batch rows `idx`, columns in `header`'s order (a column the batch lacks is
 * empty), as UTF-8 pieces. `cells` holds the batch's columns as read, every one as strings (the raw cell
 * text; -1 for a missing cell, written empty), so the records carry the batch's own text.
 */
export function* csvRecords(
  cells: ColumnTable,
  header: ReadonlyArray<string>,
  idx: ArrayLike<number>
): Generator<Uint8Array> {
  const columns = header.map((h) => {
    const c = cells.columns.find((x) => x.name === h)
    if (c !== undefined && isNumeric(c)) throw new Error(`column ${h} was not read as text`)
    return c
  })
  for (let start = 0; start < idx.length; start += ROWS_PER_PIECE) {
    const end = Math.min(idx.length, start + ROWS_PER_PIECE)
    const rows: Array<Array<string | null>> = new Array(end - start)
    for (let r = start; r < end; r++) {
      const i = idx[r]!
      rows[r - start] = columns.map((c) => {
        if (c === undefined || isNumeric(c)) return null
        const k = c.codes[i]!
        return k < 0 ? null : c.dictionary[k]!
      })
    }
    const text = writeCsv(header, rows)
    // writeCsv starts with the header line, which has no line break inside (it comes from one raw line)
    yield encoder.encode(text.slice(text.indexOf("\n") + 1))
  }
}

/** Pieces, their SHA-256 and total length. */
export const collect = (pieces: Iterable<Uint8Array>) => {
  const hash = createHash("sha256")
  const out: Uint8Array[] = []
  let bytes = 0
  for (const p of pieces) {
    hash.update(p)
    out.push(p)
    bytes += p.length
  }
  return { pieces: out, sha256: hash.digest("hex"), bytes }
}

/**
 * The merged dataset version of drift stage-training: the raw file's bytes (without a leading BOM, with a
 * final line break added when it has none), then the batch's training rows in the raw file's column order.
 * The raw bytes are used as they are, never decoded into one string.
 */
export function* mergedCsv(
  raw: Uint8Array,
  cells: ColumnTable,
  header: ReadonlyArray<string>,
  idx: ArrayLike<number>
): Generator<Uint8Array> {
  const bom = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0
  yield raw.subarray(bom)
  if (raw.length === bom || raw[raw.length - 1] !== LF) yield Uint8Array.of(LF)
  yield* csvRecords(cells, header, idx)
}

/** The held-out part: header line, then the rows `idx`. */
export function* holdoutCsv(
  cells: ColumnTable,
  header: ReadonlyArray<string>,
  idx: ArrayLike<number>
): Generator<Uint8Array> {
  const text = writeCsv(header, [])
  yield encoder.encode(text)
  yield* csvRecords(cells, header, idx)
}
