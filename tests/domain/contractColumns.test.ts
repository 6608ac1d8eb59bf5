import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { readOptionsFor, validateColumns, validateTable } from "../../src/domain/contract.js"
import { readCsvBytes } from "../../src/domain/csvReader.js"
import { decodeDatasetSpec } from "../../src/domain/dataset.js"
import { missingRule } from "../../src/domain/missing.js"
import { parseCsv } from "../../src/domain/table.js"

const root = path.resolve(__dirname, "../..")

/** Every (data.csv, dataset.yaml) pair of the bad-input corpus and the shipped datasets. */
const pairs = (): Array<{ name: string; csv: string; yaml: string }> => {
  const out: Array<{ name: string; csv: string; yaml: string }> = []
  const bad = path.join(root, "tests/fixtures/bad")
  for (const f of fs.readdirSync(bad)) {
    const dir = path.join(bad, f, "data/iris")
    if (fs.existsSync(path.join(dir, "dataset.yaml")) && fs.existsSync(path.join(dir, "data.csv")))
      out.push({ name: f, csv: path.join(dir, "data.csv"), yaml: path.join(dir, "dataset.yaml") })
  }
  for (const d of ["iris", "wine", "breast_cancer", "california_housing", "penguins"]) {
    const dir = path.join(root, "data/raw", d)
    if (fs.existsSync(path.join(dir, "dataset.yaml")))
      out.push({ name: d, csv: path.join(dir, "data.csv"), yaml: path.join(dir, "dataset.yaml") })
  }
  return out
}

describe("validateColumns (the columnar data path) says what the row path said", () => {
  for (const p of pairs()) {
    it(p.name, () => {
      const decoded = Effect.runSync(Effect.either(decodeDatasetSpec(parse(fs.readFileSync(p.yaml, "utf8")), p.yaml)))
      if (Either.isLeft(decoded)) return // a broken dataset.yaml fails before any data is read
      const spec = decoded.right
      const bytes = fs.readFileSync(p.csv)
      const rows = parseCsv(bytes.toString("utf8"), missingRule(spec))
      const before =
        rows._tag === "invalid"
          ? rows.violations
          : validateTable(rows.table, spec, { missing: rows.missing }).violations
      const read = readCsvBytes(bytes, readOptionsFor(spec, missingRule(spec)))
      const after = validateColumns(read, spec)
      expect(after.violations).toEqual(before)
      if (rows._tag === "ok" && before.length === 0) {
        const summary = validateTable(rows.table, spec, { missing: rows.missing }).summary
        expect(after.summary).toEqual(summary)
      }
    })
  }
})
