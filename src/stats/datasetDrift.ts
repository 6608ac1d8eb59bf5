/**
 * Dataset-level drift verdict over the columns of a reference profile, as Evidently's
 * DatasetDriftMetric: the share of drifted columns, and dataset drift when that share is at least
 * `driftShare` (default 0.5). Overall severity by share: "none" when no column drifted, <= 0.25
 * low, <= 0.5 medium, else high (cut-offs configurable). Beside it, a second verdict after a
 * Benjamini–Hochberg correction of the p-values of the p-value tests (KS, chi-square, Z); distance
 * tests keep their own decision there. Batches under `minBatchSize` rows (default 10) are refused
 * with BatchTooSmallError; under `smallSampleRows` (default 30) the result carries a warning.
 */
import type { ColumnProfile } from "./profile.js"
import {
  columnDrift,
  P_VALUE_TESTS,
  type ColumnDriftOptions,
  type ColumnDriftResult,
  type ColumnTestOverride,
  type Severity
} from "./columnDrift.js"
import { benjaminiHochberg } from "./multipleTesting.js"
import type { ColumnsInput, ColumnValues, ReferenceProfile } from "./profile.js"

export class BatchTooSmallError extends Error {
  readonly rows: number
  readonly minBatchSize: number
  constructor(rows: number, minBatchSize: number) {
    super(`The current batch has ${rows} rows, fewer than min_batch_size ${minBatchSize}, so drift was not computed.`)
    this.name = "BatchTooSmallError"
    this.rows = rows
    this.minBatchSize = minBatchSize
  }
}

export interface ShareSeverityThresholds {
  /** Share of drifted columns at or below which severity is low. */
  readonly low: number
  /** At or below which it is medium; above: high. */
  readonly medium: number
}

export const DEFAULT_SHARE_SEVERITY: ShareSeverityThresholds = { low: 0.25, medium: 0.5 }

/**
 * Missing values are drift too: when the share of empty cells in the batch exceeds the reference's
 * by more than `increase` (a feature that vanished in production, a broken upstream join), the
 * column is drifted whatever its test says about the values that remain; all empty → high.
 */
const MISSING_NOTE = ": counted as drifted."

export const missingValueDrift = (
  ref: ColumnProfile,
  r: ColumnDriftResult,
  rows: number,
  increase: number
): ColumnDriftResult => {
  if (rows === 0) return r
  const refShare = ref.n + ref.nulls > 0 ? ref.nulls / (ref.n + ref.nulls) : 0
  const curShare = r.currentNulls / rows
  if (curShare - refShare <= increase) return r
  const severity =
    curShare >= 1 ? "high" : curShare - refShare >= 0.5 ? "high" : r.severity === "high" ? "high" : "medium"
  return {
    ...r,
    drifted: true,
    severity,
    warnings: [
      ...r.warnings,
      `Column "${r.column}" is empty in ${(curShare * 100).toFixed(1)}% of the batch against ${(refShare * 100).toFixed(1)}% of the reference${MISSING_NOTE}`
    ]
  }
}

export interface DatasetDriftOptions extends Omit<ColumnDriftOptions, "test" | "threshold"> {
  /** Rise in the share of missing values that counts as drift on its own (default 0.1). */
  readonly missingShareIncrease?: number
  readonly driftShare?: number
  readonly minBatchSize?: number
  readonly shareSeverity?: ShareSeverityThresholds
  /** One test (and threshold) for every column, like Evidently's `stattest`. */
  readonly test?: ColumnTestOverride["test"]
  readonly threshold?: number
  /** Per-column overrides; they win over `test` / `threshold`. */
  readonly columns?: Readonly<Record<string, ColumnTestOverride>>
}

export interface ColumnDriftWithCorrection extends ColumnDriftResult {
  /** Benjamini–Hochberg adjusted p-value (p-value tests only). */
  readonly adjustedPValue: number | null
  /** The column's decision after the correction (distance tests: unchanged). */
  readonly driftedAdjusted: boolean
}

export interface DriftVerdict {
  readonly numberOfDriftedColumns: number
  readonly shareOfDriftedColumns: number
  readonly datasetDrift: boolean
  readonly severity: Severity
}

export interface DatasetDriftResult extends DriftVerdict {
  readonly rows: number
  /** Columns that were tested (columns without non-null values on either side are reported but not counted). */
  readonly numberOfColumns: number
  readonly driftShare: number
  readonly columns: ColumnDriftWithCorrection[]
  readonly benjaminiHochberg: DriftVerdict
  readonly warnings: string[]
}

export const shareSeverity = (
  drifted: number,
  share: number,
  t: ShareSeverityThresholds = DEFAULT_SHARE_SEVERITY
): Severity => (drifted === 0 ? "none" : share <= t.low ? "low" : share <= t.medium ? "medium" : "high")

const valuesOf = (current: ColumnsInput, name: string): ColumnValues | undefined =>
  current instanceof Map
    ? (current as ReadonlyMap<string, ColumnValues>).get(name)
    : Object.prototype.hasOwnProperty.call(current, name)
      ? (current as Record<string, ColumnValues>)[name]
      : undefined

/** Drift of every profile column in the current batch, and the dataset verdicts. */
export const datasetDrift = (
  profile: ReferenceProfile,
  current: ColumnsInput,
  options: DatasetDriftOptions = {}
): DatasetDriftResult => {
  const driftShare = options.driftShare ?? 0.5
  const minBatchSize = options.minBatchSize ?? 10
  const smallRows = options.smallSampleRows ?? 30
  let rows = -1
  const inputs: Array<[string, ColumnValues]> = []
  for (const col of profile.columns) {
    const v = valuesOf(current, col.name)
    if (v === undefined)
      throw new Error(`The current batch has no column "${col.name}", which the reference profile has.`)
    if (rows === -1) rows = v.length
    else if (v.length !== rows)
      throw new Error(`Column "${col.name}" of the current batch has ${v.length} rows but the others have ${rows}.`)
    inputs.push([col.name, v])
  }
  rows = Math.max(rows, 0)
  if (rows < minBatchSize) throw new BatchTooSmallError(rows, minBatchSize)

  const warnings: string[] = []
  if (rows < smallRows) {
    warnings.push(`The current batch has ${rows} rows (fewer than ${smallRows}), so the drift tests have little power.`)
  }
  const results = profile.columns.map((col, i) => {
    const override = options.columns?.[col.name]
    const test = override?.test ?? options.test
    const threshold = override?.threshold ?? (override?.test === undefined ? options.threshold : undefined)
    const {
      test: _t,
      threshold: _th,
      columns: _c,
      driftShare: _d,
      minBatchSize: _m,
      shareSeverity: _s,
      ...shared
    } = options
    const colOptions: ColumnDriftOptions = {
      ...shared,
      ...(test !== undefined ? { test } : {}),
      ...(threshold !== undefined ? { threshold } : {}),
      // the batch-level warning already covers small batches
      smallSampleRows: rows < smallRows ? 0 : smallRows
    }
    return missingValueDrift(col, columnDrift(col, inputs[i][1], colOptions), rows, options.missingShareIncrease ?? 0.1)
  })

  // A column counts when it was tested, or when its values went missing (the worst drift of all).
  const counts = (r: ColumnDriftResult) => r.statistic !== null || r.drifted
  const tested = results.filter(counts)
  const pIdx: number[] = []
  const pVals: number[] = []
  results.forEach((r, i) => {
    if (r.statistic !== null && P_VALUE_TESTS.has(r.test) && r.pValue !== null) {
      pIdx.push(i)
      pVals.push(r.pValue)
    }
  })
  const adjusted = benjaminiHochberg(pVals)
  const adjustedOf = new Map<number, number>(pIdx.map((i, k) => [i, adjusted[k]]))
  const columns: ColumnDriftWithCorrection[] = results.map((r, i) => {
    const q = adjustedOf.get(i)
    // Missing-value drift does not rest on a p-value, so the correction cannot undo it.
    const missing = r.drifted && r.warnings.some((w) => w.endsWith(MISSING_NOTE))
    return {
      ...r,
      adjustedPValue: q ?? null,
      driftedAdjusted: missing || (q !== undefined ? q < r.threshold : r.drifted)
    }
  })
  for (const r of results) warnings.push(...r.warnings)

  const verdict = (drifted: number): DriftVerdict => {
    const share = tested.length > 0 ? drifted / tested.length : 0
    return {
      numberOfDriftedColumns: drifted,
      shareOfDriftedColumns: share,
      datasetDrift: tested.length > 0 && share >= driftShare,
      severity: shareSeverity(drifted, share, options.shareSeverity ?? DEFAULT_SHARE_SEVERITY)
    }
  }
  const main = verdict(columns.filter((c) => counts(c) && c.drifted).length)
  const bh = verdict(columns.filter((c) => counts(c) && c.driftedAdjusted).length)
  return { rows, numberOfColumns: tested.length, driftShare, ...main, columns, benjaminiHochberg: bh, warnings }
}
