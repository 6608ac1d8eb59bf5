import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "csv-parse/sync"
import type { Matrix } from "../../src/ml/matrix.js"

/** A shipped dataset as a feature matrix and a target (class indices over sorted labels, or values). */
export interface Dataset {
  readonly x: Matrix
  readonly y: Float64Array
  readonly featureNames: ReadonlyArray<string>
  /** Sorted class labels (classification); empty for regression. */
  readonly classes: ReadonlyArray<string>
}

const root = fileURLToPath(new URL("../../", import.meta.url))

const cache = new Map<string, Dataset>()

/** Reads data/raw/<name>/data.csv (once per test file); every column but the target must be numeric. */
export const loadDataset = (name: string, target: string, task: "classification" | "regression"): Dataset => {
  const key = `${name}/${target}/${task}`
  const hit = cache.get(key)
  if (hit !== undefined) return hit
  const d = readDataset(name, target, task)
  cache.set(key, d)
  return d
}

const readDataset = (name: string, target: string, task: "classification" | "regression"): Dataset => {
  const records = parse(readFileSync(`${root}data/raw/${name}/data.csv`, "utf8"), {
    skip_empty_lines: true
  }) as string[][]
  const header = records[0]!
  const t = header.indexOf(target)
  if (t < 0) throw new Error(`${name} has no column ${target}`)
  const body = records.slice(1)
  const featureNames = header.filter((_, j) => j !== t)
  const p = featureNames.length
  const data = new Float64Array(body.length * p)
  body.forEach((r, i) => {
    let k = 0
    for (let j = 0; j < r.length; j++) if (j !== t) data[i * p + k++] = Number(r[j])
  })
  const labels = body.map((r) => r[t]!)
  const classes = task === "classification" ? [...new Set(labels)].sort() : []
  const y = Float64Array.from(labels, (v) => (task === "classification" ? classes.indexOf(v) : Number(v)))
  return { x: { rows: body.length, cols: p, data }, y, featureNames, classes }
}

export const breastCancer = (): Dataset => loadDataset("breast_cancer", "diagnosis", "classification")
export const californiaHousing = (): Dataset => loadDataset("california_housing", "MedHouseVal", "regression")
export const iris = (): Dataset => loadDataset("iris", "species", "classification")
export const wine = (): Dataset => loadDataset("wine", "wine_class", "classification")
