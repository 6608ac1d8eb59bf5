import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { inferSchema } from "../../src/domain/contract.js"
import { missingRule, PANDAS_DEFAULT_NA, type MissingOptions } from "../../src/domain/missing.js"
import { parseCsv, toFrame } from "../../src/domain/table.js"

// Every expectation comes from pandas: tests/fixtures/pandas/make_inference_reference.py wrote this file.
interface Reference {
  readonly pandas_version: string
  readonly default_tokens: ReadonlyArray<string>
  readonly cases: ReadonlyArray<{
    readonly name: string
    readonly csv: string
    readonly options: MissingOptions
    readonly columns: Readonly<
      Record<
        string,
        {
          readonly pandas_dtype: string
          readonly dtype: "float" | "int" | "string" | "bool"
          readonly missing: ReadonlyArray<boolean>
          readonly values?: ReadonlyArray<number | "inf" | "-inf" | null>
        }
      >
    >
  }>
}
const ref = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../fixtures/pandas/inference_reference.json"), "utf8")
) as Reference

describe(`type inference and missing values as pandas ${ref.pandas_version} reads them`, () => {
  it("the default missing tokens are pandas' (keep_default_na: true)", () => {
    expect([...PANDAS_DEFAULT_NA].sort()).toEqual([...ref.default_tokens].sort())
  })

  for (const c of ref.cases) {
    it(`${c.name}: ${Object.entries(c.columns)
      .map(([k, v]) => `${k} → ${v.dtype} (pandas ${v.pandas_dtype})`)
      .join(", ")}`, () => {
      const parsed = parseCsv(c.csv, missingRule(c.options))
      if (parsed._tag !== "ok") throw new Error(JSON.stringify(parsed.violations))
      const { table } = parsed
      const schema = inferSchema(table)
      for (const [name, want] of Object.entries(c.columns)) {
        const j = table.header.indexOf(name)
        expect(schema[name], name).toBe(want.dtype)
        expect(
          table.rows.map((r) => r[j] === null),
          name
        ).toEqual(want.missing)
        if (want.values === undefined) continue
        const { frame, violations } = toFrame(table, schema, [name])
        const got = frame.columns[0]!.values as Float64Array
        want.values.forEach((v, i) => {
          if (v === null) expect(Number.isNaN(got[i]!), `${name}[${i}]`).toBe(true)
          // driftgate infers inf as float like pandas, then refuses it in validation (learners need finite values).
          else if (v === "inf" || v === "-inf") expect(violations.map((x) => x.column)).toContain(name)
          else expect(got[i], `${name}[${i}]`).toBe(v)
        })
        if (!want.values.some((v) => v === "inf" || v === "-inf")) expect(violations, name).toEqual([])
      }
    })
  }
})
