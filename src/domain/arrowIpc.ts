import {
  Dictionary,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  Type,
  Uint32,
  Utf8,
  vectorFromArray,
  type Data,
  type DataType
} from "apache-arrow"
import { type ColumnTable, type DictionaryColumn, isNumeric, type TableColumn } from "./columnTable.js"

/**
 * Arrow IPC file format (Feather v2, `.arrow`) for the workspace's tables: byte conversion only, no
 * I/O (Storage writes the bytes). Numeric columns are Float64 written straight from their
 * Float64Array (missing = NaN, also marked null so DuckDB and polars see NULL); string and bool
 * columns are Dictionary<Utf8, Int32>. Each field's `driftgate.dtype` metadata keeps int / float /
 * string / bool, so a table comes back with the dtypes it went in with. pandas reads these files
 * with `pd.read_feather(path)`, polars with `pl.read_ipc(path)`, DuckDB with its arrow extension.
 */

const DTYPE_KEY = "driftgate.dtype"

/** A validity bitmap (bit set = present) for the cells where `missing(i)` is false; null when none are missing. */
const validity = (n: number, missing: (i: number) => boolean): { bitmap: Uint8Array | null; nulls: number } => {
  let nulls = 0
  let bitmap: Uint8Array | null = null
  for (let i = 0; i < n; i++) {
    if (missing(i)) {
      if (bitmap === null) {
        bitmap = new Uint8Array((n + 7) >> 3).fill(0xff)
      }
      bitmap[i >> 3]! &= ~(1 << (i & 7))
      nulls++
    }
  }
  return { bitmap, nulls }
}

const numericData = (values: Float64Array): Data<Float64> => {
  const { bitmap, nulls } = validity(values.length, (i) => values[i] !== values[i])
  return makeData({
    type: new Float64(),
    length: values.length,
    nullCount: nulls,
    ...(bitmap === null ? {} : { nullBitmap: bitmap }),
    data: values
  })
}

const dictionaryData = (c: DictionaryColumn, id: number): Data<Dictionary<Utf8, Int32>> => {
  const codes = c.codes
  const { bitmap, nulls } = validity(codes.length, (i) => codes[i]! < 0)
  // a null slot's index must still point into the dictionary for strict readers
  const indices = nulls === 0 ? codes : codes.map((k) => (k < 0 ? 0 : k))
  const dictionary = vectorFromArray([...c.dictionary], new Utf8())
  return makeData({
    type: new Dictionary(new Utf8(), new Int32(), id, false),
    length: codes.length,
    nullCount: nulls,
    ...(bitmap === null ? {} : { nullBitmap: bitmap }),
    data: indices,
    dictionary
  })
}

/**
 * An encoded file as the writer's pieces (the column buffers themselves, uncopied): write them one
 * after another. Joining 75 MB into one new buffer costs more than the encoding on a busy machine.
 */
export type IpcParts = ReadonlyArray<Uint8Array>

export { joinParts } from "./bytes.js"

/** Encodes a table as an Arrow IPC file; `metadata` goes into the schema's custom metadata. */
export const encodeTable = (table: ColumnTable, metadata: Readonly<Record<string, string>> = {}): IpcParts => {
  const fields: Field[] = []
  const children: Data[] = []
  let dictId = 0
  for (const c of table.columns) {
    const meta = new Map([[DTYPE_KEY, c.dtype]])
    if (isNumeric(c)) {
      fields.push(new Field(c.name, new Float64(), true, meta))
      children.push(numericData(c.values))
    } else {
      const data = dictionaryData(c, dictId++)
      fields.push(new Field(c.name, data.type, true, meta))
      children.push(data)
    }
  }
  return encodeFields(fields, children, table.rows, metadata)
}

const encodeFields = (
  fields: Field[],
  children: Data[],
  rows: number,
  metadata: Readonly<Record<string, string>>
): IpcParts => {
  const schema = new Schema(fields, new Map(Object.entries(metadata)))
  const struct = makeData({ type: new Struct(fields), length: rows, nullCount: 0, children })
  const writer = RecordBatchFileWriter.writeAll(new Table(schema, [new RecordBatch(schema, struct)]))
  // the writer queues its pieces; take them as they are instead of its own join (one big copy)
  const queued = (writer as unknown as { _sink?: { _values?: unknown } })._sink?._values
  if (Array.isArray(queued) && queued.every((p) => p instanceof Uint8Array)) return queued as Uint8Array[]
  return [writer.toUint8Array(true)]
}

/** Row indices (a split over the snapshot) as a one-column Arrow IPC file (`row`, Uint32). */
export const encodeIndices = (
  indices: ArrayLike<number>,
  metadata: Readonly<Record<string, string>> = {}
): IpcParts => {
  const rows = Uint32Array.from(indices as ArrayLike<number>)
  const data = makeData({ type: new Uint32(), length: rows.length, nullCount: 0, data: rows })
  return encodeFields([new Field("row", new Uint32(), false)], [data], rows.length, metadata)
}

/** A dense matrix (features as Float64 columns, e.g. a preprocessed split) plus optional extra columns. */
export const encodeColumns = (
  columns: ReadonlyArray<{ readonly name: string; readonly values: Float64Array }>,
  metadata: Readonly<Record<string, string>> = {}
): IpcParts => {
  const rows = columns.length === 0 ? 0 : columns[0]!.values.length
  return encodeFields(
    columns.map((c) => new Field(c.name, new Float64(), true)),
    columns.map((c) => numericData(c.values)),
    rows,
    metadata
  )
}

export class ArrowDecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = "ArrowDecodeError"
  }
}

export interface DecodedTable {
  readonly table: ColumnTable
  readonly metadata: Readonly<Record<string, string>>
}

const isNull = (data: Data, i: number): boolean => {
  const bm = data.nullBitmap
  if (data.nullCount === 0 || bm === undefined || bm === null || bm.length === 0) return false
  const j = data.offset + i
  return (bm[j >> 3]! & (1 << (j & 7))) === 0
}

/** All chunks of one column, concatenated into one Float64Array (nulls → NaN). */
const readFloat = (chunks: ReadonlyArray<Data>, rows: number, name: string): Float64Array => {
  if (chunks.length === 1 && chunks[0]!.nullCount === 0 && chunks[0]!.type.typeId === Type.Float) {
    const v = chunks[0]!.values as unknown as Float64Array
    if (v instanceof Float64Array && v.length === rows) return v
  }
  const out = new Float64Array(rows)
  let o = 0
  for (const d of chunks) {
    const t = d.type as DataType
    if (!(t.typeId === Type.Float || t.typeId === Type.Int)) {
      throw new ArrowDecodeError(`column ${name} is ${String(t)}, expected a number type`)
    }
    const v = d.values as unknown as ArrayLike<number | bigint>
    for (let i = 0; i < d.length; i++) out[o + i] = isNull(d, i) ? NaN : Number(v[i]!)
    o += d.length
  }
  return out
}

/** All chunks of a dictionary column, re-coded into one dictionary (nulls → -1). */
const readDictionary = (
  chunks: ReadonlyArray<Data>,
  rows: number,
  name: string
): { codes: Int32Array; dictionary: string[] } => {
  const codes = new Int32Array(rows)
  const dictionary: string[] = []
  const index = new Map<string, number>()
  let o = 0
  for (const d of chunks) {
    if (d.type.typeId !== Type.Dictionary) throw new ArrowDecodeError(`column ${name} is not dictionary-encoded`)
    const dict = d.dictionary
    const local = new Int32Array(dict === undefined ? 0 : dict.length)
    for (let k = 0; k < local.length; k++) {
      const s = String(dict!.get(k))
      let g = index.get(s)
      if (g === undefined) {
        g = dictionary.length
        dictionary.push(s)
        index.set(s, g)
      }
      local[k] = g
    }
    const v = d.values as unknown as ArrayLike<number>
    for (let i = 0; i < d.length; i++) codes[o + i] = isNull(d, i) ? -1 : local[Number(v[i]!)]!
    o += d.length
  }
  return { codes, dictionary }
}

/** Decodes an Arrow IPC file (or stream) into a ColumnTable: number columns and Dictionary<Utf8> columns. */
export const decodeTable = (bytes: Uint8Array): DecodedTable => {
  let t: Table
  try {
    t = tableFromIPC(bytes)
  } catch (e) {
    throw new ArrowDecodeError(`not an Arrow IPC file (${e instanceof Error ? e.message : String(e)})`)
  }
  const rows = t.numRows
  const columns: TableColumn[] = t.schema.fields.map((f, j): TableColumn => {
    const chunks = t.getChildAt(j)!.data
    const dtype = f.metadata.get(DTYPE_KEY)
    if (f.type.typeId === Type.Dictionary) {
      const { codes, dictionary } = readDictionary(chunks, rows, f.name)
      return { name: f.name, dtype: dtype === "bool" ? "bool" : "string", codes, dictionary }
    }
    return { name: f.name, dtype: dtype === "int" ? "int" : "float", values: readFloat(chunks, rows, f.name) }
  })
  return { table: { rows, columns }, metadata: Object.fromEntries(t.schema.metadata) }
}

/** Decodes a file written by encodeIndices. */
export const decodeIndices = (
  bytes: Uint8Array
): { readonly rows: Uint32Array; readonly metadata: Record<string, string> } => {
  const t = tableFromIPC(bytes)
  const col = t.getChild("row")
  if (col === null) throw new ArrowDecodeError("an index file needs a `row` column")
  const out = new Uint32Array(t.numRows)
  let o = 0
  for (const d of col.data) {
    const v = d.values as unknown as ArrayLike<number>
    for (let i = 0; i < d.length; i++) out[o + i] = v[i]!
    o += d.length
  }
  return { rows: out, metadata: Object.fromEntries(t.schema.metadata) }
}
