import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { frame, frameFromRecords, takeFrameRows, type Frame } from "../../src/ml/frame.js"
import { LearnerInputError } from "../../src/ml/matrix.js"
import {
  fitCategoricalImputer,
  fitColumnTransformer,
  fitMinMaxScaler,
  fitNumericImputer,
  fitStandardScaler,
  transformFrame,
  transformRow,
  type ColumnTransformerState
} from "../../src/ml/preprocess.js"

const people: Frame = frame([
  { name: "age", dtype: "int", values: Float64Array.of(20, 30, NaN, 50, 40) },
  { name: "color", dtype: "string", values: ["red", "blue", null, "red", "green"] },
  { name: "member", dtype: "bool", values: ["true", "false", "true", null, "true"] },
  { name: "score", dtype: "float", values: Float64Array.of(1, 1, 1, 1, 1) }
])

describe("column transforms", () => {
  it("standard scaler: population std, missing values ignored, constant column → scale 1", () => {
    // mean 4, population variance (9 + 4 + 1 + 0 + 36) / 5 = 10
    expect(fitStandardScaler(Float64Array.of(1, 2, 3, 4, 10, NaN))).toEqual({
      kind: "standard",
      offset: 4,
      scale: Math.sqrt(10)
    })
    expect(fitStandardScaler(Float64Array.of(0.1, 0.1, 0.1))).toEqual({ kind: "standard", offset: 0.1, scale: 1 })
    expect(fitMinMaxScaler(Float64Array.of(2, NaN, 6, 4))).toEqual({ kind: "minmax", offset: 2, scale: 4 })
  })

  it("imputers: mean, median, most frequent (smallest on ties); categorical most frequent", () => {
    const v = Float64Array.of(1, NaN, 3, 3, 10, 1)
    expect(fitNumericImputer(v, "mean").value).toBe(18 / 5)
    expect(fitNumericImputer(v, "median").value).toBe(3)
    expect(fitNumericImputer(Float64Array.of(4, 1, 2, 3), "median").value).toBe(2.5)
    expect(fitNumericImputer(v, "most_frequent").value).toBe(1)
    expect(fitCategoricalImputer(["b", "a", null, "b", "a"])).toBe("a")
    expect(() => fitNumericImputer(Float64Array.of(NaN), "mean", "empty")).toThrow(/column empty/)
  })
})

describe("column transformer", () => {
  const spec = { scale: "standard", impute: "median", encode: "one_hot" } as const

  it("imputes, scales numeric columns and one-hot encodes categories in sorted order", () => {
    const state = fitColumnTransformer(people, spec)
    expect(state.featureNames).toEqual([
      "age",
      "color=blue",
      "color=green",
      "color=red",
      "member=false",
      "member=true",
      "score"
    ])
    const out = transformFrame(state, people)
    // age: median of (20, 30, 50, 40) = 35 fills the gap; then mean 35, population std √(450/5... ) over 20 30 35 50 40
    const age = [20, 30, 35, 50, 40],
      sd = Math.sqrt(age.reduce((s, a) => s + (a - 35) ** 2, 0) / 5)
    expect(out.matrix.rows).toBe(5)
    expect(out.matrix.cols).toBe(7)
    const row = (i: number) => Array.from(out.matrix.data.subarray(i * 7, i * 7 + 7))
    expect(row(0)).toEqual([(20 - 35) / sd, 0, 0, 1, 0, 1, 0])
    // missing color → most frequent ("red"); missing member → "true"
    expect(row(2)).toEqual([0, 0, 0, 1, 0, 1, 0])
    expect(row(3)).toEqual([(50 - 35) / sd, 0, 0, 1, 0, 1, 0])
    expect(out.unknownCategories).toEqual({ color: 0, member: 0 })
  })

  it("unknown categories → all zeros, counted per column; extra columns are ignored", () => {
    const state = fitColumnTransformer(people, spec)
    const serving = frame([
      { name: "age", dtype: "int", values: Float64Array.of(35, 35) },
      { name: "color", dtype: "string", values: ["purple", "purple"] },
      { name: "member", dtype: "bool", values: ["true", "maybe"] },
      { name: "score", dtype: "float", values: Float64Array.of(1, 2) },
      { name: "extra", dtype: "float", values: Float64Array.of(0, 0) }
    ])
    const out = transformFrame(state, serving)
    expect(Array.from(out.matrix.data.subarray(0, 7))).toEqual([0, 0, 0, 0, 0, 1, 0])
    expect(Array.from(out.matrix.data.subarray(7, 14))).toEqual([0, 0, 0, 0, 0, 0, 1])
    expect(out.unknownCategories).toEqual({ color: 2, member: 1 })
  })

  it("ordinal encoding: category index, unknown → -1, missing without imputation → NaN", () => {
    const state = fitColumnTransformer(people, { scale: "none", impute: "none", encode: "ordinal" })
    expect(state.featureNames).toEqual(["age", "color", "member", "score"])
    const out = transformFrame(state, people)
    expect(Array.from(out.matrix.data.subarray(0, 4))).toEqual([20, 2, 1, 1])
    expect(Array.from(out.matrix.data.subarray(8, 12))).toEqual([NaN, NaN, 1, 1])
    expect(transformRow(state, { age: 1, color: "pink", member: true, score: 0 }).values).toEqual(
      Float64Array.of(1, -1, 1, 0)
    )
  })

  it("transformRow gives exactly transformFrame's rows, and counts unknowns", () => {
    const state = fitColumnTransformer(people, { scale: "minmax", impute: "mean", encode: "one_hot" })
    const records = [
      { age: 33, color: "blue", member: false, score: 1 },
      { age: null, color: null, member: null, score: 7.5 },
      { age: "41", color: "teal", member: "true", score: 0 }
    ]
    const f = frameFromRecords(records, [
      { name: "age", dtype: "int" },
      { name: "color", dtype: "string" },
      { name: "member", dtype: "bool" },
      { name: "score", dtype: "float" }
    ])
    const whole = transformFrame(state, f)
    records.forEach((r, i) => {
      const one = transformRow(state, r)
      expect(Array.from(one.values)).toEqual(Array.from(whole.matrix.data.subarray(i * 7, i * 7 + 7)))
    })
    expect(transformRow(state, records[2]!).unknownCategories).toEqual({ color: 1, member: 0 })
  })

  it("state survives a JSON round trip exactly", () => {
    const state = fitColumnTransformer(people, spec)
    const back = JSON.parse(JSON.stringify(state)) as ColumnTransformerState
    expect(back).toEqual(state)
    expect(Array.from(transformFrame(back, people).matrix.data)).toEqual(
      Array.from(transformFrame(state, people).matrix.data)
    )
  })

  it("bad input: missing column, wrong dtype, string column without encoding, non-numeric cell", () => {
    const state = fitColumnTransformer(people, spec)
    expect(() => transformFrame(state, frame([people.columns[0]!]))).toThrow(/column color is missing/)
    expect(() =>
      transformFrame(
        state,
        frame([{ name: "age", dtype: "string", values: ["1", "2", "3", "4", "5"] }, ...people.columns.slice(1)])
      )
    ).toThrow(/column age was fitted as int/)
    expect(() => fitColumnTransformer(people, { scale: "none", impute: "none", encode: "none" })).toThrow(
      /color is string/
    )
    expect(() => transformRow(state, { age: "old", color: "red", member: true, score: 1 })).toThrow(
      /column age is numeric/
    )
    expect(() => transformRow(state, { color: "red", member: true, score: 1 })).toThrow(/column age is missing/)
    expect(() =>
      transformFrame(
        { ...state, format: "driftgate.column_transformer/0" } as unknown as ColumnTransformerState,
        people
      )
    ).toThrow(LearnerInputError)
  })

  it("property: standardised training columns have mean 0 and population std 1 (or are constant)", () => {
    // values on a 1e-6 grid: subnormal spreads (1e-162 apart) have no meaningful standard deviation
    const value = fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => Math.round(v * 1e6) / 1e6)
    fc.assert(
      fc.property(fc.array(value, { minLength: 2, maxLength: 50 }), (vals) => {
        const f = frame([{ name: "v", dtype: "float", values: Float64Array.from(vals) }])
        const out = transformFrame(fitColumnTransformer(f, { scale: "standard", impute: "none", encode: "none" }), f)
          .matrix.data
        expect(out.every(Number.isFinite)).toBe(true)
        const mean = out.reduce((s, v) => s + v, 0) / out.length
        const sd = Math.sqrt(out.reduce((s, v) => s + (v - mean) ** 2, 0) / out.length)
        expect(Math.abs(mean)).toBeLessThan(1e-6)
        if (sd > 1e-6) expect(sd).toBeCloseTo(1, 6)
      }),
      { numRuns: 100 }
    )
  })
})

describe("frame", () => {
  it("checks lengths and names; selects rows", () => {
    expect(() =>
      frame([
        { name: "a", dtype: "float", values: Float64Array.of(1) },
        { name: "b", dtype: "string", values: [] }
      ])
    ).toThrow(LearnerInputError)
    expect(() =>
      frame([
        { name: "a", dtype: "float", values: Float64Array.of(1) },
        { name: "a", dtype: "float", values: Float64Array.of(1) }
      ])
    ).toThrow(LearnerInputError)
    const sub = takeFrameRows(people, [4, 0])
    expect(sub.rows).toBe(2)
    expect(Array.from(sub.columns[0]!.values as Float64Array)).toEqual([40, 20])
    expect(sub.columns[1]!.values).toEqual(["green", "red"])
  })
})
