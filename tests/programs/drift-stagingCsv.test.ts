import { describe, expect, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { Effect, Layer } from "effect"
import { readCsvBytes } from "../../src/domain/csvReader.js"
import type { DatasetSpec } from "../../src/domain/dataset.js"
import { BLANK_ONLY, missingRule } from "../../src/domain/missing.js"
import { parseCsv, toFrame, writeCsv } from "../../src/domain/table.js"
import { makeStorageMemory } from "../../src/layers/storage/StorageMemory.js"
import { collect, holdoutCsv, mergedCsv, rawHeaderOf } from "../../src/programs/drift/stagingCsv.js"
import { readFrame } from "../../src/programs/splitData.js"
import { Storage } from "../../src/services/Storage.js"

// drift stage-training used to parse the labelled batch a second time into rows of strings (parseCsv)
// and build the merged dataset version as one string. It now writes from the columnar reader's text
// columns, in pieces; the bytes must be the ones the row path made (the row path is the reference here:
// parseCsv and writeCsv are csv-parse and csv-stringify).

const enc = new TextEncoder()
const dec = new TextDecoder()

/** The row path, as staging.ts had it: the reference for the merged and held-out bytes. */
const rowPath = (
  rawText: string,
  batchText: string,
  naValues: ReadonlyArray<string>,
  train: number[],
  val: number[]
) => {
  const parsed = parseCsv(batchText, missingRule({ na_values: naValues }))
  if (parsed._tag !== "ok") throw new Error("fixture is not valid CSV")
  const raw = rawText.replace(/^\uFEFF/, "")
  const rawHeader = raw
    .split(/\r?\n/, 1)[0]!
    .split(",")
    .map((h) => h.trim().replace(/^"|"$/g, ""))
  const order = rawHeader.map((h) => parsed.table.header.indexOf(h))
  const reorder = (i: number) => order.map((j) => (j < 0 ? null : (parsed.table.rows[i]![j] ?? null)))
  const trainCsv = writeCsv(rawHeader, train.map(reorder))
  const merged = (raw.endsWith("\n") ? raw : raw + "\n") + trainCsv.slice(trainCsv.indexOf("\n") + 1)
  return { merged, holdout: writeCsv(rawHeader, val.map(reorder)), rawHeader }
}

/** The columnar path staging.ts takes now. */
const columnarPath = (
  rawBytes: Uint8Array,
  batchText: string,
  naValues: ReadonlyArray<string>,
  train: number[],
  val: number[]
) => {
  const rule = missingRule({ na_values: naValues })
  const bytes = enc.encode(batchText)
  const header = readCsvBytes(bytes, { naValues: rule.tokens }).header
  const cells = readCsvBytes(bytes, {
    naValues: rule.tokens,
    naNumbers: rule.numbers,
    stringColumns: new Set(header),
    onlyColumns: new Set(header)
  }).table
  const rawHeader = rawHeaderOf(rawBytes)
  return {
    merged: collect(mergedCsv(rawBytes, cells, rawHeader, train)),
    holdout: collect(holdoutCsv(cells, rawHeader, val)),
    rawHeader,
    rows: cells.rows
  }
}

const cases: Array<{ name: string; raw: string; batch: string; na?: string[] }> = [
  {
    name: "columns in another order, quoted commas, quotes and line breaks, unicode",
    raw: "a,b,label\n1,x,yes\n2,y,no\n",
    batch: 'label,b,a\nyes,"x, with comma",3\nno,"say ""hi""",4\nyes,"two\nlines",5\nno,Zoë ☃ 𝄞,6\nyes,plain,7\n'
  },
  {
    name: "missing tokens (pandas' defaults and na_values) written empty, blank cells, -999.0 as a declared -999",
    raw: "a,b,label\n1,x,yes\n",
    batch: "a,b,label\nNA,x,yes\n2,,no\n-999.0,N/A,yes\n  ,null,no\n5,?,yes\n6,-,no\n",
    na: ["?", "-999"]
  },
  {
    name: "a raw file with a BOM, CRLF line ends and no final line break; a CRLF batch",
    raw: '\uFEFF"a", "b" ,label\r\n1,x,yes\r\n2,y,no',
    batch: "a,b,label\r\n3,p,yes\r\n4,q,no\r\n5,r,yes\r\n"
  },
  {
    name: "a raw column the batch lacks is written empty",
    raw: "a,b,c,label\n1,x,z,yes\n",
    batch: "label,a,b\nno,9,w\nyes,8,v\n"
  }
]

describe("drift stage-training: the merged version and the holdout from the columnar reader", () => {
  for (const c of cases) {
    it(c.name, () => {
      const na = c.na ?? []
      const rawBytes = enc.encode(c.raw)
      const rows = parseCsv(c.batch, missingRule({ na_values: na }))
      if (rows._tag !== "ok") throw new Error("fixture")
      const n = rows.table.rows.length
      // every split of the rows the staging could make, in a shuffled order
      const all = Array.from({ length: n }, (_, i) => (i * 7 + 3) % n)
      for (let cut = 0; cut <= n; cut++) {
        const train = all.slice(0, cut)
        const val = all.slice(cut)
        const want = rowPath(c.raw, c.batch, na, train, val)
        const got = columnarPath(rawBytes, c.batch, na, train, val)
        expect(got.rows).toBe(n)
        expect(got.rawHeader).toEqual(want.rawHeader)
        expect(dec.decode(Buffer.concat(got.merged.pieces))).toBe(want.merged)
        expect(dec.decode(Buffer.concat(got.holdout.pieces))).toBe(want.holdout)
        expect(got.merged.bytes).toBe(enc.encode(want.merged).length)
        expect(got.merged.sha256).toBe(createHash("sha256").update(want.merged).digest("hex"))
      }
    })
  }

  it("more rows than one piece: the same bytes as one string", () => {
    const lines = ["a,b,label"]
    for (let i = 0; i < 40_000; i++) lines.push(`${i * 0.25},"v,${i % 13}",${i % 3 === 0 ? "yes" : "no"}`)
    const batch = lines.join("\n") + "\n"
    const idx = Array.from({ length: 40_000 }, (_, i) => (i * 7919) % 40_000)
    const want = rowPath("label,a,b\n", batch, [], idx.slice(0, 30_000), idx.slice(30_000))
    const got = columnarPath(enc.encode("label,a,b\n"), batch, [], idx.slice(0, 30_000), idx.slice(30_000))
    expect(got.merged.pieces.length).toBeGreaterThan(2)
    expect(dec.decode(Buffer.concat(got.merged.pieces))).toBe(want.merged)
    expect(dec.decode(Buffer.concat(got.holdout.pieces))).toBe(want.holdout)
  })
})

describe("readFrame of a CSV driftgate wrote (a drift holdout): the columnar reader, as the row path read it", () => {
  const spec = {
    name: "t",
    task_type: "classification",
    target: "label",
    features: ["f", "i", "s", "b"],
    schema: { f: "float", i: "int", s: "string", b: "bool", label: "string" },
    constraints: { min_rows: 1, label_classes: ["no", "yes"] }
  } as unknown as DatasetSpec
  const columns = [...spec.features, spec.target]
  const read = (text: string) =>
    Effect.gen(function* () {
      const storage = yield* Storage
      yield* storage.write("staging/t/holdout.csv", text)
      return yield* readFrame("staging/t/holdout.csv", spec, columns)
    }).pipe(Effect.provide(Layer.sync(Storage, makeStorageMemory)))

  it.effect(
    "the same typed columns as parseCsv + toFrame (blanks missing, 3.0 as an int, bool spellings, NA kept as text)",
    () =>
      Effect.gen(function* () {
        const text =
          'label,s,b,i,f,extra\nyes,NA,True,3.0,1.5,z\nno,,false,,,z\nyes,"a,b",TRUE,-2,1e-3,z\nno,x,0,7, 2.5 ,z\n'
        const parsed = parseCsv(text, BLANK_ONLY)
        if (parsed._tag !== "ok") throw new Error("fixture")
        const want = toFrame(parsed.table, spec.schema, columns)
        expect(want.violations).toEqual([])
        const got = yield* read(text)
        expect(got.rows).toBe(want.frame.rows)
        expect(got.columns.map((c) => c.name)).toEqual(columns)
        for (const c of want.frame.columns) {
          const g = got.columns.find((x) => x.name === c.name)!
          expect(g.dtype).toBe(c.dtype)
          expect(Array.from(g.values as ArrayLike<unknown>)).toEqual(Array.from(c.values as ArrayLike<unknown>))
        }
      })
  )

  it.effect("a value of the wrong type and a missing column are a ContractViolation naming them", () =>
    Effect.gen(function* () {
      const bad = yield* Effect.flip(read("label,s,b,i,f\nyes,a,true,3.5,x\n"))
      expect(bad._tag).toBe("ContractViolation")
      const v = (bad as unknown as { violations: Array<{ column: string; rule: string }> }).violations
      expect(v.map((x) => `${x.column}:${x.rule}`).sort()).toEqual(["f:dtype", "i:dtype"])
      // one class, blank features: a small holdout is read, not re-validated against the whole contract
      const one = yield* read("label,s,b,i,f\nyes,,,,\n")
      expect(one.rows).toBe(1)
      const absent = yield* Effect.flip(read("label,s,b,i\nyes,a,true,3\n"))
      expect((absent as unknown as { violations: Array<{ column: string; rule: string }> }).violations).toEqual([
        expect.objectContaining({ column: "f", rule: "column_present" })
      ])
      // collected, not first-found: an absent column and a present one of the wrong type, in one error
      const both = yield* Effect.flip(read("label,s,b,i\nyes,a,true,3.5\n"))
      const all = (both as unknown as { violations: Array<{ column: string; rule: string }> }).violations
      expect(all.map((x) => `${x.column}:${x.rule}`).sort()).toEqual(["f:column_present", "i:dtype"])
    })
  )
})
