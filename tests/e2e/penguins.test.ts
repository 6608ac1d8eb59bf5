import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { decodeIndices, decodeTable } from "../../src/domain/arrowIpc.js"
import { missingRule } from "../../src/domain/missing.js"
import { parseCsv, selectRows, writeCsv } from "../../src/domain/table.js"
import { cli, root, tempWorkspace } from "./helpers.js"

// Expectations come from pandas + scikit-learn: tests/fixtures/pandas/{penguins_reference,make_messy_fixture}.py.
const fixtures = path.join(root, "tests/fixtures/pandas")
const penguins = JSON.parse(fs.readFileSync(path.join(fixtures, "penguins_reference.json"), "utf8")) as {
  dtypes: Record<string, string>
  missing: Record<string, number>
  driftgate_split: { sha256: { train: string; val: string } }
  val_accuracy_driftgate_split: number
  train_range: Record<string, [number, number]>
}
const messy = JSON.parse(fs.readFileSync(path.join(fixtures, "messy_reference.json"), "utf8")) as {
  dtypes: Record<string, string>
  missing: Record<string, number>
}

/** A copy of configs/penguins.yaml with the given CSV as data/raw/penguins/data.csv and no dataset.yaml. */
const project = (csv: string) => {
  const dir = tempWorkspace()
  fs.mkdirSync(path.join(dir, "configs"))
  fs.mkdirSync(path.join(dir, "data/raw/penguins"), { recursive: true })
  fs.copyFileSync(path.join(root, "configs/penguins.yaml"), path.join(dir, "configs/penguins.yaml"))
  fs.copyFileSync(csv, path.join(dir, "data/raw/penguins/data.csv"))
  return dir
}

const run = (dir: string) =>
  cli([
    "run",
    "--config",
    path.join(dir, "configs/penguins.yaml"),
    "--target",
    "species",
    "--task",
    "classification",
    "--approve",
    "auto",
    "--workspace",
    path.join(dir, "ws"),
    "--json"
  ])

const missingPerColumn = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${c} ${n}`)
    .join(", ")

describe("a real R export with NA cells runs with no edits", () => {
  it("penguins: numbers infer as numbers, NA counts as missing, accuracy within 0.02 of scikit-learn", () => {
    const dir = project(path.join(root, "data/raw/penguins/data.csv"))
    const r = run(dir)
    expect(r.code, r.stderr).toBe(0)
    const specText = fs.readFileSync(path.join(dir, "data/raw/penguins/dataset.yaml"), "utf8")
    const spec = parse(specText)
    expect(spec.schema).toEqual(penguins.dtypes)
    const na = Object.values(penguins.missing).reduce((a, b) => a + b, 0)
    expect(specText).toContain(`"NA" ×${na} = ${na} cell(s); per column: ${missingPerColumn(penguins.missing)}.`)
    const out = JSON.parse(r.stdout)
    // scikit-learn's figure is on driftgate's own split: check the rows are the same ones.
    const splitDir = path.join(dir, "ws/datasets/penguins", out.dataset.version, "splits", out.dataset.split_id)
    // A split part is row indices over the snapshot; the reference hashed the CSV those rows made
    // (missing cells written empty), so the rows are rebuilt as that CSV from the raw file.
    const raw = parseCsv(fs.readFileSync(path.join(dir, "data/raw/penguins/data.csv"), "utf8"), missingRule())
    if (raw._tag !== "ok") throw new Error("the raw penguins file does not parse")
    for (const s of ["train", "val"] as const) {
      const { rows } = decodeIndices(fs.readFileSync(path.join(splitDir, `${s}.arrow`)))
      const csv = writeCsv(raw.table.header, selectRows(raw.table, [...rows]).rows)
      const sha = createHash("sha256").update(csv).digest("hex")
      expect(sha, `${s}.arrow`).toBe(penguins.driftgate_split.sha256[s])
    }
    const evaluation = out.stages.find((s: { name: string }) => s.name === "evaluation")
    expect(evaluation.result.metrics.val.accuracy).toBeGreaterThanOrEqual(penguins.val_accuracy_driftgate_split - 0.02)
    // the serving contract's ranges: each number feature's min/max on the train rows, NA skipped like pandas
    const featureMap = JSON.parse(
      fs.readFileSync(path.join(dir, "ws/artifacts", out.run_id, "model/feature_map.json"), "utf8")
    ) as { input_features: Array<{ name: string; min?: number; max?: number }> }
    const ranges = Object.fromEntries(
      featureMap.input_features.filter((f) => f.min !== undefined).map((f) => [f.name, [f.min, f.max]])
    )
    expect(ranges).toEqual(penguins.train_range)
  })

  it("the same data saved by a spreadsheet (#N/A, NULL, padded numbers, TRUE/FALSE) infers pandas' dtypes", () => {
    const dir = project(path.join(fixtures, "messy/data.csv"))
    const r = run(dir)
    expect(r.code, r.stderr).toBe(0)
    const specText = fs.readFileSync(path.join(dir, "data/raw/penguins/dataset.yaml"), "utf8")
    expect(parse(specText).schema).toEqual(messy.dtypes)
    expect(specText).toContain(`per column: ${missingPerColumn(messy.missing)}.`)
    expect(JSON.parse(r.stdout).dataset.rows).toBe(344)
  })

  it("a malformed line near the end of a large export fails with exit 4 naming it, leaving nothing behind", () => {
    // the shipped rows repeated to 50,000, then one row with an unclosed quote three lines before the end
    const [header, ...body] = fs.readFileSync(path.join(root, "data/raw/penguins/data.csv"), "utf8").trim().split("\n")
    const lines = [header!]
    for (let i = 0; lines.length <= 50_000; i++) lines.push(body[i % body.length]!)
    const bad = lines.length - 3
    lines[bad] = `Adelie,"Torgersen,39.1,18.7,181,3750,male,2007`
    const csv = path.join(tempWorkspace(), "data.csv")
    fs.writeFileSync(csv, lines.join("\n") + "\n")
    const dir = project(csv)
    const r = run(dir)
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain(`line ${bad + 1}`)
    expect(fs.existsSync(path.join(dir, "data/raw/penguins/dataset.yaml"))).toBe(false)
    expect(fs.existsSync(path.join(dir, "ws/datasets/penguins"))).toBe(false)
  })
})

describe("driftgate data export", () => {
  it("writes a run's split as the CSV pandas' reference hashed (the raw rows, missing cells empty), and as Arrow", () => {
    const dir = project(path.join(root, "data/raw/penguins/data.csv"))
    const r = run(dir)
    expect(r.code, r.stderr).toBe(0)
    const runId = JSON.parse(r.stdout).run_id as string
    const ws = path.join(dir, "ws")
    for (const s of ["train", "val"] as const) {
      const out = path.join(dir, `${s}.csv`)
      const e = cli(["data", "export", runId, "--split", s, "--out", out, "--workspace", ws, "--json"])
      expect(e.code, e.stderr).toBe(0)
      expect(JSON.parse(e.stdout)).toMatchObject({ run_id: runId, split: s, format: "csv", out })
      const sha = createHash("sha256").update(fs.readFileSync(out)).digest("hex")
      expect(sha, `${s}.csv`).toBe(penguins.driftgate_split.sha256[s])
      if (s === "train") continue
      // to standard output: the same bytes
      const piped = cli(["data", "export", runId, "--split", s, "--workspace", ws])
      expect(createHash("sha256").update(piped.stdout).digest("hex")).toBe(sha)
    }
    const arrow = path.join(dir, "val.arrow")
    const a = cli(["data", "export", runId, "--format", "arrow", "--out", arrow, "--workspace", ws])
    expect(a.code, a.stderr).toBe(0)
    const { table } = decodeTable(fs.readFileSync(arrow))
    const csvRows = fs.readFileSync(path.join(dir, "val.csv"), "utf8").trim().split("\n").length - 1
    expect(table.rows).toBe(csvRows)
    const none = cli(["data", "export", "no-such-run", "--workspace", ws])
    expect(none.code).toBe(64)
    expect(none.stderr.trim().split("\n")).toHaveLength(1)
    expect(none.stderr).toContain("no-such-run")
  })
})
