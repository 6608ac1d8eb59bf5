/**
 * Per-column drift decision against a reference profile, with Evidently's default test choice
 * (evidently `_get_default_stattest`, where n_values counts distinct non-null values of
 * reference ∪ current and the size rule looks at the reference's non-null rows):
 *   reference <= 1000 rows: numeric with > 5 values -> KS (p < 0.05);
 *                           otherwise > 2 values -> chi-square (p < 0.05), else Z-test (p < 0.05)
 *   reference  > 1000 rows: numeric with > 5 values -> normed Wasserstein (>= 0.1);
 *                           otherwise Jensen–Shannon (>= 0.1)
 * Every choice can be overridden per column (test and threshold). Severity: for p-value tests
 * p < 0.001 high, < 0.01 medium, < threshold low; for distances >= 0.25 high, >= 0.15 medium,
 * >= threshold low; "none" when the column did not drift. All cut-offs are options.
 * A batch costs one pass over the current column plus one sort (numeric); the reference is
 * read from the profile and never re-sorted.
 */
import type { Severity } from "../domain/config.js"
import { binnedNumericShares, histogramBinEdges, histogramCountsSorted, type BinRule } from "./binning.js"
import { chiSquareCategories } from "./chi2.js"
import { jensenShannonCategories, jensenShannonDistance } from "./jensenShannon.js"
import { ks2sampSorted } from "./ks.js"
import {
  categoryCounts,
  countDistinctSorted,
  finiteValues,
  isCategoricalValues,
  sortedReference,
  type CategoricalColumnProfile,
  type ColumnProfile,
  type ColumnValues,
  type NumericColumnProfile
} from "./profile.js"
import { psiCategories, psiFromShares } from "./psi.js"
import { sortFloat64 } from "../domain/sort.js"
import { wassersteinNormed, wassersteinSorted } from "./wasserstein.js"
import { zTestCategories } from "./ztest.js"

export type DriftTestName = "ks" | "wasserstein" | "chisquare" | "z" | "jensenshannon" | "psi"
/** The drift severity levels of the config and reports (declared once, in the domain). */
export type { Severity }
export type ColumnKind = "numeric" | "categorical" | "binary"

export const DEFAULT_THRESHOLDS: Readonly<Record<DriftTestName, number>> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1
}

export const P_VALUE_TESTS: ReadonlySet<DriftTestName> = new Set(["ks", "chisquare", "z"])

export interface SeverityThresholds {
  /** p-value tests: p below `high` is high, below `medium` is medium (then below threshold: low). */
  readonly pValue: { readonly medium: number; readonly high: number }
  /** Distance tests: statistic at or above `high` is high, at or above `medium` medium. */
  readonly distance: { readonly medium: number; readonly high: number }
}

export const DEFAULT_SEVERITY: SeverityThresholds = {
  pValue: { medium: 0.01, high: 0.001 },
  distance: { medium: 0.15, high: 0.25 }
}

export interface ColumnTestOverride {
  readonly test?: DriftTestName
  readonly threshold?: number
}

export interface ColumnDriftOptions extends ColumnTestOverride {
  readonly severity?: SeverityThresholds
  /** Bins for PSI / Jensen–Shannon on numeric columns and for the plotting histogram. */
  readonly binning?: BinRule
  /** Logarithm base of the Jensen–Shannon distance (default e, as SciPy). */
  readonly jensenShannonBase?: number
  /** Reference size at or below which p-value tests are the default (Evidently: 1000). */
  readonly largeReferenceRows?: number
  /** Categories shown in the summary before the rest is pooled as "other" (default 20). */
  readonly summaryCategories?: number
  /** Non-null values under which a column gets a small-sample warning (default 30). */
  readonly smallSampleRows?: number
}

export interface HistogramSummary {
  readonly type: "histogram"
  readonly edges: number[]
  /** Counts per bin: reference from the profile's (possibly sampled) sorted values. */
  readonly reference: number[]
  readonly current: number[]
}

export interface CategorySummary {
  readonly type: "categories"
  readonly categories: Array<string | number>
  readonly reference: number[]
  readonly current: number[]
  /** Counts of categories beyond the shown ones. */
  readonly otherReference: number
  readonly otherCurrent: number
}

export interface ColumnDriftResult {
  readonly column: string
  readonly kind: ColumnKind
  readonly test: DriftTestName
  /** KS D, chi-square or z statistic, or the distance; null when the column could not be tested. */
  readonly statistic: number | null
  readonly pValue: number | null
  readonly threshold: number
  readonly drifted: boolean
  readonly severity: Severity
  readonly referenceRows: number
  readonly currentRows: number
  readonly currentNulls: number
  /** Distinct non-null values of reference ∪ current when known exactly (always for categorical, and for numeric columns with few values); else null. */
  readonly uniqueValues: number | null
  readonly summary: HistogramSummary | CategorySummary
  readonly warnings: string[]
}

/** The test Evidently picks by default. */
export const defaultTest = (
  kind: "numeric" | "categorical",
  referenceRows: number,
  uniqueValues: number,
  largeReferenceRows = 1000
): DriftTestName => {
  if (referenceRows <= largeReferenceRows) {
    if (kind === "numeric" && uniqueValues > 5) return "ks"
    return uniqueValues > 2 ? "chisquare" : "z"
  }
  return kind === "numeric" && uniqueValues > 5 ? "wasserstein" : "jensenshannon"
}

export const severityOf = (
  test: DriftTestName,
  drifted: boolean,
  statistic: number,
  pValue: number | null,
  s: SeverityThresholds = DEFAULT_SEVERITY
): Severity => {
  if (!drifted) return "none"
  if (P_VALUE_TESTS.has(test)) {
    const p = pValue ?? 1
    return p < s.pValue.high ? "high" : p < s.pValue.medium ? "medium" : "low"
  }
  return statistic >= s.distance.high ? "high" : statistic >= s.distance.medium ? "medium" : "low"
}

const countsOfSorted = (sorted: Float64Array): Map<number, number> => {
  const m = new Map<number, number>()
  let i = 0
  while (i < sorted.length) {
    let j = i + 1
    while (j < sorted.length && sorted[j] === sorted[i]) j++
    m.set(sorted[i] === 0 ? 0 : sorted[i], j - i)
    i = j
  }
  return m
}

/** Distinct count of the union of two ascending distinct-value lists. */
const unionDistinctCount = (a: ReadonlyArray<number>, b: Float64Array): number => {
  let i = 0
  let j = 0
  let u = 0
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j]
    while (i < a.length && a[i] === v) i++
    while (j < b.length && b[j] === v) j++
    u++
  }
  return u
}

const distinctSorted = (sorted: Float64Array): Float64Array => {
  const out = new Float64Array(countDistinctSorted(sorted))
  let k = 0
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) out[k++] = sorted[i]
  return out
}

const categorySummary = <K extends string | number>(
  ref: ReadonlyMap<K, number>,
  cur: ReadonlyMap<K, number>,
  limit: number
): CategorySummary => {
  const keys = [...new Set<K>([...ref.keys(), ...cur.keys()])]
  const refTotal = [...ref.values()].reduce((a, b) => a + b, 0)
  const curTotal = [...cur.values()].reduce((a, b) => a + b, 0)
  const share = (k: K) =>
    (refTotal > 0 ? (ref.get(k) ?? 0) / refTotal : 0) + (curTotal > 0 ? (cur.get(k) ?? 0) / curTotal : 0)
  keys.sort((a, b) => share(b) - share(a) || (a < b ? -1 : a > b ? 1 : 0))
  const shown = keys.slice(0, limit)
  const reference = shown.map((k) => ref.get(k) ?? 0)
  const current = shown.map((k) => cur.get(k) ?? 0)
  return {
    type: "categories",
    categories: shown,
    reference,
    current,
    otherReference: refTotal - reference.reduce((a, b) => a + b, 0),
    otherCurrent: curTotal - current.reduce((a, b) => a + b, 0)
  }
}

const untested = (
  column: string,
  kind: ColumnKind,
  test: DriftTestName,
  threshold: number,
  referenceRows: number,
  currentNulls: number,
  summary: HistogramSummary | CategorySummary,
  warning: string
): ColumnDriftResult => ({
  column,
  kind,
  test,
  statistic: null,
  pValue: null,
  threshold,
  drifted: false,
  severity: "none",
  referenceRows,
  currentRows: 0,
  currentNulls,
  uniqueValues: null,
  summary,
  warnings: [warning]
})

interface TestOutcome {
  readonly statistic: number
  readonly pValue: number | null
  readonly warning?: string
}

const finishResult = (
  column: string,
  kind: ColumnKind,
  test: DriftTestName,
  threshold: number,
  outcome: TestOutcome,
  base: Pick<ColumnDriftResult, "referenceRows" | "currentRows" | "currentNulls" | "uniqueValues" | "summary">,
  options: ColumnDriftOptions
): ColumnDriftResult => {
  const isP = P_VALUE_TESTS.has(test)
  let pValue = outcome.pValue
  const warnings: string[] = []
  if (outcome.warning !== undefined) warnings.push(outcome.warning)
  if (isP && pValue !== null && Number.isNaN(pValue)) {
    // chi-square with a single category has df = 0 (SciPy: NaN); both sides are identical
    pValue = 1
    warnings.push(`Column "${column}" has a single category, so the ${test} test is undefined and p = 1 is reported.`)
  }
  const drifted = isP ? (pValue ?? 1) < threshold : outcome.statistic >= threshold
  const small = options.smallSampleRows ?? 30
  if (base.currentRows < small) {
    warnings.push(
      `Column "${column}" has ${base.currentRows} non-null current values (fewer than ${small}), so its test has little power.`
    )
  }
  return {
    column,
    kind,
    test,
    statistic: outcome.statistic,
    pValue: isP ? pValue : null,
    threshold,
    drifted,
    severity: severityOf(test, drifted, outcome.statistic, pValue, options.severity ?? DEFAULT_SEVERITY),
    ...base,
    warnings
  }
}

const numericColumnDrift = (
  ref: NumericColumnProfile,
  current: ArrayLike<number | null>,
  options: ColumnDriftOptions
): ColumnDriftResult => {
  const { values, nulls } = finiteValues(current)
  const cur = sortFloat64(values)
  const refSorted = sortedReference(ref)
  const uniqueValues =
    ref.distinct !== null
      ? unionDistinctCount(
          ref.distinct.map((d) => d[0]),
          distinctSorted(cur)
        )
      : null
  // with more than maxDistinct reference values the union certainly has more than 5
  const nValues = uniqueValues ?? Number.POSITIVE_INFINITY
  const kind: ColumnKind = nValues <= 2 ? "binary" : "numeric"
  const test = options.test ?? defaultTest("numeric", ref.n, nValues, options.largeReferenceRows)
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[test]
  const rule = options.binning ?? "sturges"

  const refCounts = (): Map<number, number> =>
    ref.distinct !== null
      ? new Map(ref.distinct.map(([v, c]) => [v, c] as [number, number]))
      : countsOfSorted(refSorted)
  const summary = (): HistogramSummary | CategorySummary => {
    if (ref.distinct !== null) return categorySummary(refCounts(), countsOfSorted(cur), options.summaryCategories ?? 20)
    if (refSorted.length === 0 || cur.length === 0) return { type: "histogram", edges: [], reference: [], current: [] }
    const lo = Math.min(refSorted[0], cur[0])
    const hi = Math.max(refSorted[refSorted.length - 1], cur[cur.length - 1])
    const edges = histogramBinEdges(lo, hi, refSorted.length + cur.length, rule)
    return {
      type: "histogram",
      edges: Array.from(edges),
      reference: Array.from(histogramCountsSorted(refSorted, edges)),
      current: Array.from(histogramCountsSorted(cur, edges))
    }
  }
  if (ref.n === 0 || cur.length === 0) {
    const which = ref.n === 0 ? "the reference profile" : "the current batch"
    return untested(
      ref.name,
      kind,
      test,
      threshold,
      ref.n,
      nulls,
      summary(),
      `Column "${ref.name}" has no non-null values in ${which}, so it was not tested.`
    )
  }

  let outcome: TestOutcome
  switch (test) {
    case "ks": {
      const r = ks2sampSorted(refSorted, cur)
      outcome = { statistic: r.statistic, pValue: r.pValue }
      break
    }
    case "wasserstein":
      outcome = { statistic: wassersteinNormed(wassersteinSorted(refSorted, cur), ref.std), pValue: null }
      break
    case "chisquare": {
      const r = chiSquareCategories(refCounts(), countsOfSorted(cur))
      outcome = { statistic: r.statistic, pValue: r.pValue }
      break
    }
    case "z": {
      const r = zTestCategories(refCounts(), countsOfSorted(cur))
      outcome = { statistic: r.statistic, pValue: r.pValue }
      break
    }
    case "jensenshannon":
    case "psi": {
      // Evidently bins numeric columns with more than 20 reference values; otherwise one bin per value
      const binned = ref.unique > 20
      if (binned) {
        const b = binnedNumericShares(refSorted, cur, rule, test === "psi")
        const s =
          test === "psi"
            ? psiFromShares(b.reference, b.current)
            : jensenShannonDistance(b.reference, b.current, options.jensenShannonBase)
        outcome = { statistic: s, pValue: null }
      } else {
        const s =
          test === "psi"
            ? psiCategories(refCounts(), countsOfSorted(cur))
            : jensenShannonCategories(refCounts(), countsOfSorted(cur), options.jensenShannonBase)
        outcome = { statistic: s, pValue: null }
      }
      break
    }
  }
  return finishResult(
    ref.name,
    kind,
    test,
    threshold,
    outcome,
    {
      referenceRows: ref.n,
      currentRows: cur.length,
      currentNulls: nulls,
      uniqueValues,
      summary: summary()
    },
    options
  )
}

const categoricalColumnDrift = (
  ref: CategoricalColumnProfile,
  current: ReadonlyArray<string | null>,
  options: ColumnDriftOptions
): ColumnDriftResult => {
  const { counts: curCounts, nulls } = categoryCounts(current)
  const refCounts = new Map<string, number>(ref.categories.map(([k, c]) => [k, c] as [string, number]))
  let currentRows = 0
  for (const c of curCounts.values()) currentRows += c
  let uniqueValues = refCounts.size
  for (const k of curCounts.keys()) if (!refCounts.has(k)) uniqueValues++
  const kind: ColumnKind = uniqueValues <= 2 ? "binary" : "categorical"
  const test = options.test ?? defaultTest("categorical", ref.n, uniqueValues, options.largeReferenceRows)
  if (test === "ks" || test === "wasserstein") {
    throw new Error(`Column "${ref.name}" is categorical, so it cannot use the ${test} test, which needs numbers.`)
  }
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[test]
  const summary = categorySummary(refCounts, curCounts, options.summaryCategories ?? 20)
  if (ref.n === 0 || currentRows === 0) {
    const which = ref.n === 0 ? "the reference profile" : "the current batch"
    return untested(
      ref.name,
      kind,
      test,
      threshold,
      ref.n,
      nulls,
      summary,
      `Column "${ref.name}" has no non-null values in ${which}, so it was not tested.`
    )
  }
  let outcome: TestOutcome
  switch (test) {
    case "chisquare": {
      const r = chiSquareCategories(refCounts, curCounts)
      outcome = { statistic: r.statistic, pValue: r.pValue }
      break
    }
    case "z": {
      const r = zTestCategories(refCounts, curCounts)
      outcome = { statistic: r.statistic, pValue: r.pValue }
      break
    }
    case "jensenshannon":
      outcome = { statistic: jensenShannonCategories(refCounts, curCounts, options.jensenShannonBase), pValue: null }
      break
    case "psi":
      outcome = { statistic: psiCategories(refCounts, curCounts), pValue: null }
      break
  }
  return finishResult(
    ref.name,
    kind,
    test,
    threshold,
    outcome,
    {
      referenceRows: ref.n,
      currentRows,
      currentNulls: nulls,
      uniqueValues,
      summary
    },
    options
  )
}

/**
 * Drift of one column: the reference profile column against the current values (numbers with
 * NaN/null for missing, or strings with null for missing).
 */
export const columnDrift = (
  reference: ColumnProfile,
  current: ColumnValues,
  options: ColumnDriftOptions = {}
): ColumnDriftResult => {
  const categorical = isCategoricalValues(current)
  if (reference.kind === "numeric") {
    if (categorical)
      throw new Error(
        `Column "${reference.name}" is numeric in the reference profile but holds strings in the current batch.`
      )
    return numericColumnDrift(reference, current as ArrayLike<number | null>, options)
  }
  if (!categorical && !(Array.isArray(current) && current.every((v) => v === null))) {
    throw new Error(
      `Column "${reference.name}" is categorical in the reference profile but holds numbers in the current batch.`
    )
  }
  return categoricalColumnDrift(reference, current as ReadonlyArray<string | null>, options)
}
