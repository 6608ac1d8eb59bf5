import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  type Column,
  dictionaryOf,
  type Frame,
  type FrameColumn,
  isNumericColumn,
  takeFrameRows
} from "../../src/ml/frame.js"
import {
  fitColumnTransformer,
  type PreprocessSpec,
  transformFrame,
  transformFrameColumns
} from "../../src/ml/preprocess.js"

/** The same frame with its string columns dictionary-encoded (what the CSV reader and Arrow files give). */
const encoded = (f: Frame): { rows: number; columns: FrameColumn[] } => ({
  rows: f.rows,
  columns: f.columns.map((c): FrameColumn => {
    if (isNumericColumn(c)) return c
    const { codes, dictionary } = dictionaryOf(c)
    return { name: c.name, dtype: c.dtype, codes, dictionary }
  })
})

const bits = (a: Float64Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length * 2))

const specs: PreprocessSpec[] = [
  { scale: "standard", impute: "median", encode: "one_hot" },
  { scale: "minmax", impute: "mean", encode: "ordinal" },
  { scale: "none", impute: "none", encode: "one_hot" },
  { scale: "standard", impute: "most_frequent", encode: "ordinal" },
  { scale: "none", impute: "none", encode: "ordinal" }
]

const frameArb = fc
  .integer({ min: 1, max: 40 })
  .chain((n) =>
    fc.record({
      x: fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(NaN)), {
        minLength: n,
        maxLength: n
      }),
      s: fc.array(fc.oneof(fc.constantFrom("a", "b", "c", "d"), fc.constant(null)), { minLength: n, maxLength: n })
    })
  )
  .filter((r) => r.x.some((v) => !Number.isNaN(v)) && r.s.some((v) => v !== null))
  .map((r): Frame => ({
    rows: r.x.length,
    columns: [
      { name: "x", dtype: "float", values: Float64Array.from(r.x) },
      { name: "s", dtype: "string", values: r.s }
    ] as Column[]
  }))

describe("preprocessing on dictionary-encoded columns", () => {
  it("fits the same state and gives bit-identical matrices as on string columns, for every strategy", () => {
    fc.assert(
      fc.property(frameArb, frameArb, fc.constantFrom(...specs), (train, test, spec) => {
        const a = fitColumnTransformer(train, spec)
        const b = fitColumnTransformer(encoded(train), spec)
        expect(b).toEqual(a)
        const ta = transformFrame(a, test)
        const tb = transformFrame(a, encoded(test))
        expect(bits(tb.matrix.data)).toEqual(bits(ta.matrix.data))
        expect(tb.unknownCategories).toEqual(ta.unknownCategories)
      }),
      { numRuns: 150 }
    )
  })

  it("column-major output holds exactly the row-major values, transposed", () => {
    fc.assert(
      fc.property(frameArb, fc.constantFrom(...specs), (f, spec) => {
        const state = fitColumnTransformer(f, spec)
        const rm = transformFrame(state, encoded(f)).matrix
        const cm = transformFrameColumns(state, encoded(f))
        const p = rm.cols
        for (let j = 0; j < p; j++)
          for (let i = 0; i < rm.rows; i++) expect(Object.is(cm.columns[j]![i], rm.data[i * p + j])).toBe(true)
      }),
      { numRuns: 60 }
    )
  })

  it("600,000 rows: unknown categories counted, missing imputed, rows taken from dictionary columns", () => {
    const n = 600_000
    const values = Float64Array.from({ length: n }, (_, i) => (i % 10 === 0 ? NaN : i % 100))
    const codes = Int32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? -1 : i % 3))
    const f = {
      rows: n,
      columns: [
        { name: "x", dtype: "float" as const, values },
        { name: "s", dtype: "string" as const, codes, dictionary: ["p", "q", "r"] }
      ]
    }
    const state = fitColumnTransformer(f, { scale: "none", impute: "most_frequent", encode: "one_hot" })
    expect(state.featureNames).toEqual(["x", "s=p", "s=q", "s=r"])
    // serving-time dictionary with a value not seen in training
    const later = { ...f, columns: [f.columns[0]!, { ...f.columns[1]!, dictionary: ["p", "q", "zzz"] }] }
    const out = transformFrameColumns(state, later)
    expect(out.unknownCategories).toEqual({ s: codes.filter((k) => k === 2).length })
    let ones = 0
    for (let j = 1; j < 4; j++) for (const v of out.columns[j]!) ones += v
    expect(ones).toBe(n - out.unknownCategories.s!)
    expect(out.columns[0]!.some(Number.isNaN)).toBe(false)
    const sub = takeFrameRows(f, Uint32Array.of(n - 1, 0, 7))
    expect(Array.from((sub.columns[1] as { codes: Int32Array }).codes)).toEqual([codes[n - 1], -1, -1])
  })
})

describe("transformFrameColumns passes through what it does not change", () => {
  it("a number column with no scaler and nothing to impute is the input column; others are new and the input is left as it was", () => {
    const clean = Float64Array.from([1.5, -0, 3, 1e300])
    const holes = Float64Array.from([2, NaN, 4, 6])
    const f = {
      rows: 4,
      columns: [
        { name: "clean", dtype: "float" as const, values: clean },
        { name: "holes", dtype: "float" as const, values: holes }
      ]
    }
    const none = fitColumnTransformer(f, { scale: "none", impute: "median", encode: "one_hot" })
    const out = transformFrameColumns(none, f)
    expect(out.columns[0]).toBe(clean)
    expect(out.columns[1]).not.toBe(holes)
    expect(Array.from(out.columns[1]!)).toEqual([2, 4, 4, 6])
    expect(Object.is(holes[1], NaN)).toBe(true)
    // the same values as the row-major transform, -0 included
    const rm = transformFrame(none, f).matrix
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 2; j++) expect(Object.is(out.columns[j]![i], rm.data[i * 2 + j])).toBe(true)
    // a scaler changes every value: a copy
    const scaled = transformFrameColumns(
      fitColumnTransformer(f, { scale: "standard", impute: "median", encode: "one_hot" }),
      f
    )
    expect(scaled.columns[0]).not.toBe(clean)
    expect(Array.from(clean)).toEqual([1.5, -0, 3, 1e300])
  })
})
