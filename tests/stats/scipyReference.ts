/** Loads bench/scipy_reference.json (written by bench/scipy_reference.py) and the tolerance checks. */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"

const path = fileURLToPath(new URL("../../bench/scipy_reference.json", import.meta.url))

const decode = (_key: string, v: unknown): unknown =>
  v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "nan" ? Number.NaN : v

export const ref: any = JSON.parse(readFileSync(path, "utf8"), decode)

export const sample = (name: string): Float64Array => Float64Array.from(ref.samples[name] as number[])

/** |a - b| <= rel * |b|, or both equal (including infinities and NaN). */
export const expectRel = (actual: number, expected: number, rel = 1e-9, abs = 0, label = ""): void => {
  if (Number.isNaN(expected)) {
    expect(actual, label).toBeNaN()
    return
  }
  if (!Number.isFinite(expected)) {
    expect(actual, label).toBe(expected)
    return
  }
  const err = Math.abs(actual - expected)
  const ok = err <= rel * Math.abs(expected) || err <= abs
  if (!ok) expect.fail(`${label}: expected ${expected}, got ${actual} (relative error ${err / Math.abs(expected)})`)
}

/** p-values: relative 1e-9, or absolute 1e-15 for very small ones. */
export const expectP = (actual: number, expected: number, label = ""): void =>
  expectRel(actual, expected, 1e-9, 1e-15, label)

export const countsMap = (pairs: ReadonlyArray<readonly [string | number, number]>): Map<string | number, number> =>
  new Map(pairs.map(([k, v]) => [k, v]))
