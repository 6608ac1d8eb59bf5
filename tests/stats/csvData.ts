/** Reads data/raw/<name>/data.csv into numeric (Float64Array, NaN for empty) and string columns. */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "csv-parse/sync"

export interface Table {
  readonly names: string[]
  readonly rows: number
  readonly columns: Map<string, Float64Array | Array<string | null>>
}

export const readDataset = (name: string): Table => {
  const path = fileURLToPath(new URL(`../../data/raw/${name}/data.csv`, import.meta.url))
  const records = parse(readFileSync(path, "utf8"), { columns: false, skip_empty_lines: true }) as string[][]
  const [header, ...body] = records
  const columns = new Map<string, Float64Array | Array<string | null>>()
  header.forEach((h, j) => {
    const raw = body.map((r) => r[j])
    const numeric = raw.every((v) => v === "" || Number.isFinite(Number(v)))
    columns.set(
      h,
      numeric
        ? Float64Array.from(raw, (v) => (v === "" ? Number.NaN : Number(v)))
        : raw.map((v) => (v === "" ? null : v))
    )
  })
  return { names: header, rows: body.length, columns }
}

/** Rows of every column where mask[i] is true. */
export const selectRows = (
  t: Table,
  mask: (i: number) => boolean
): Map<string, Float64Array | Array<string | null>> => {
  const idx: number[] = []
  for (let i = 0; i < t.rows; i++) if (mask(i)) idx.push(i)
  const out = new Map<string, Float64Array | Array<string | null>>()
  for (const [name, col] of t.columns) {
    out.set(name, col instanceof Float64Array ? Float64Array.from(idx, (i) => col[i]) : idx.map((i) => col[i]))
  }
  return out
}
