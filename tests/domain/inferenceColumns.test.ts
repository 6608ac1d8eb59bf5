import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { inferSchemaColumns } from "../../src/domain/contract.js"
import { mergeReread, readCsvBytes, rereadPass } from "../../src/domain/csvReader.js"
import { missingRule, type MissingOptions } from "../../src/domain/missing.js"

// dataset.yaml inference runs on the columnar reader (no string per cell); its dtypes must be pandas'
// on every case of the pandas-written references that tests/domain/inference.test.ts and messy.test.ts use.
interface Reference {
  readonly cases: ReadonlyArray<{
    readonly name: string
    readonly csv: string
    readonly options: MissingOptions
    readonly columns: Readonly<Record<string, { readonly dtype: string; readonly missing: ReadonlyArray<boolean> }>>
  }>
}
const dir = path.resolve(__dirname, "../fixtures/pandas")
const ref = JSON.parse(fs.readFileSync(path.join(dir, "inference_reference.json"), "utf8")) as Reference

const infer = (bytes: Uint8Array, options: MissingOptions) => {
  const rule = missingRule(options)
  const opts = { naValues: rule.tokens, naNumbers: rule.numbers }
  let read = readCsvBytes(bytes, opts)
  let out = inferSchemaColumns(read)
  if (out.reread.length > 0) {
    const chunks = function* () {
      yield bytes
    }
    read = mergeReread(read, rereadPass(chunks, opts, out.reread))
    out = inferSchemaColumns(read)
  }
  expect(out.reread).toEqual([])
  return { read, schema: out.schema }
}

describe("schema inference on the columnar reader gives pandas' dtypes", () => {
  for (const c of ref.cases) {
    it(c.name, () => {
      const { read, schema } = infer(new TextEncoder().encode(c.csv), c.options)
      for (const [name, want] of Object.entries(c.columns)) {
        expect(schema[name], name).toBe(want.dtype)
        const info = read.info.find((i) => i.name === name)!
        expect(info.missing, name).toBe(want.missing.filter((m) => m).length)
      }
    })
  }

  it("the spreadsheet export (messy fixture)", () => {
    const messy = JSON.parse(fs.readFileSync(path.join(dir, "messy_reference.json"), "utf8")) as {
      dtypes: Record<string, string>
    }
    const { schema } = infer(fs.readFileSync(path.join(dir, "messy/data.csv")), {})
    expect(schema).toEqual(messy.dtypes)
  })
})
