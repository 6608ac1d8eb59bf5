/**
 * Two-proportion Z-test as Evidently's z_stat_test (evidently/calculations/stattests/z_stattest.py):
 * if both samples hold the same single value, p = 1; otherwise the categories are sorted, the first
 * one is "0" and every other value "1", and
 *   z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2)),  P = pooled share,
 *   p = 2 * (1 - Phi(|z|))   (two-sided, computed as Evidently does, so p < ~1e-16 rounds to 0).
 */
import { normCdf } from "./distributions.js"

export interface ZTestResult {
  readonly statistic: number
  readonly pValue: number
}

/** Z statistic and two-sided p-value from "successes" and sizes. */
export const twoProportionZTest = (x1: number, n1: number, x2: number, n2: number): ZTestResult => {
  const p1 = x1 / n1
  const p2 = x2 / n2
  const P = (p1 * n1 + p2 * n2) / (n1 + n2)
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
  return { statistic: z, pValue: 2 * (1 - normCdf(Math.abs(z))) }
}

const compareKeys = (a: string | number, b: string | number): number =>
  typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0

/** Evidently's Z-test from category counts of reference and current (nulls excluded). */
export const zTestCategories = <K extends string | number>(
  refCounts: ReadonlyMap<K, number>,
  curCounts: ReadonlyMap<K, number>
): ZTestResult => {
  const refKeys = [...refCounts.keys()].filter((k) => (refCounts.get(k) ?? 0) > 0)
  const curKeys = [...curCounts.keys()].filter((k) => (curCounts.get(k) ?? 0) > 0)
  if (refKeys.length === 1 && curKeys.length === 1 && refKeys[0] === curKeys[0]) return { statistic: 0, pValue: 1 }
  const keys = [...new Set<K>([...refKeys, ...curKeys])].sort(compareKeys)
  const first = keys[0] as K
  let n1 = 0
  let n2 = 0
  for (const c of refCounts.values()) n1 += c
  for (const c of curCounts.values()) n2 += c
  const x1 = n1 - (refCounts.get(first) ?? 0)
  const x2 = n2 - (curCounts.get(first) ?? 0)
  return twoProportionZTest(x1, n1, x2, n2)
}
