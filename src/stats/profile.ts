/**
 * Reference profile: what drift monitoring needs from the training data, computed once per model
 * version so monitoring never re-reads the training CSV. Plain JSON (`JSON.stringify` works as is),
 * versioned by `format: "driftgate.profile/1"`.
 *
 * Numeric columns keep their sorted values: all of them when n <= maxSample (default 10,000), so
 * KS and Wasserstein against the profile equal SciPy on the full reference; above that a seeded
 * uniform sample of maxSample values drawn without replacement (a genuine random sample, so the KS
 * p-value stays valid for a reference of that size; the distances become estimates). n, null
 * count, distinct count, mean, population std (np.std, used by the normed Wasserstein), min and max
 * are always computed on the full column, and columns with at most `maxDistinct` (20) distinct
 * values also keep exact value counts, which is what Evidently's chi-square, Z and binned tests use.
 * Categorical columns keep their category counts. Nulls (NaN, ±Infinity, null) are counted and
 * excluded, as Evidently replaces infinities with NaN and drops NaN before testing.
 */
import { rng } from "../domain/random.js"
import { sortFloat64 } from "../domain/sort.js"
import { npMean, npStd } from "./summation.js"

export const PROFILE_FORMAT = "driftgate.profile/1"

export interface NumericColumnProfile {
  readonly name: string
  readonly kind: "numeric"
  /** Non-null values. */
  readonly n: number
  readonly nulls: number
  readonly unique: number
  readonly mean: number
  /** Population standard deviation (ddof = 0), as np.std. */
  readonly std: number
  readonly min: number
  readonly max: number
  /** True when `sorted` is a seeded subsample rather than every value. */
  readonly sampled: boolean
  /** Values sorted ascending (every value, or the subsample). */
  readonly sorted: ReadonlyArray<number>
  /** [value, count] for every distinct value, ascending, when unique <= maxDistinct; else null. */
  readonly distinct: ReadonlyArray<readonly [number, number]> | null
}

export interface CategoricalColumnProfile {
  readonly name: string
  readonly kind: "categorical"
  readonly n: number
  readonly nulls: number
  readonly unique: number
  /** [category, count], most frequent first (ties by category). */
  readonly categories: ReadonlyArray<readonly [string, number]>
}

export type ColumnProfile = NumericColumnProfile | CategoricalColumnProfile

export interface ReferenceProfile {
  readonly format: typeof PROFILE_FORMAT
  readonly rows: number
  readonly maxSample: number
  readonly maxDistinct: number
  readonly seed: number
  readonly columns: ReadonlyArray<ColumnProfile>
}

/** Numeric columns: numbers with NaN (or null) for missing. Categorical: strings with null for missing. */
export type ColumnValues = ArrayLike<number> | ReadonlyArray<number | null> | ReadonlyArray<string | null>
export type ColumnsInput = Readonly<Record<string, ColumnValues>> | ReadonlyMap<string, ColumnValues>

export interface ProfileOptions {
  readonly seed?: number
  readonly maxSample?: number
  readonly maxDistinct?: number
}

const isNumericValue = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)

/** True when the values are categorical (strings); false for numbers. Judged by the first non-null value. */
export const isCategoricalValues = (values: ColumnValues): values is ReadonlyArray<string | null> => {
  if (!Array.isArray(values)) return false
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined) continue
    if (typeof v === "string") return true
    if (typeof v === "number") return false
    throw new Error(`A column holds a value of type ${typeof v}; only numbers and strings are supported.`)
  }
  return false
}

/** finiteValues of a typed column: one monomorphic loop (x - x is 0 exactly for finite x), no type checks per cell. */
const finiteOfFloat64 = (values: Float64Array): { values: Float64Array; nulls: number } => {
  const n = values.length
  let k = 0
  for (let i = 0; i < n; i++) if (values[i]! - values[i]! === 0) k++
  const out = new Float64Array(k)
  if (k === n) out.set(values)
  else
    for (let i = 0, j = 0; i < n; i++) {
      const v = values[i]!
      if (v - v === 0) out[j++] = v
    }
  return { values: out, nulls: n - k }
}

/** Finite values of a numeric column (in input order) and the count of missing ones. */
export const finiteValues = (values: ArrayLike<number | null>): { values: Float64Array; nulls: number } => {
  if (values instanceof Float64Array) return finiteOfFloat64(values)
  let k = 0
  for (let i = 0; i < values.length; i++) if (isNumericValue(values[i])) k++
  const out = new Float64Array(k)
  k = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (isNumericValue(v)) out[k++] = v
    else if (v !== null && typeof v !== "number")
      throw new Error(`A numeric column holds the value ${JSON.stringify(v)}, which is not a number.`)
  }
  return { values: out, nulls: values.length - k }
}

/** Category counts of a categorical column and its null count. */
export const categoryCounts = (
  values: ReadonlyArray<string | null>
): { counts: Map<string, number>; nulls: number } => {
  const counts = new Map<string, number>()
  let nulls = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined) {
      nulls++
      continue
    }
    if (typeof v !== "string")
      throw new Error(`A categorical column holds the value ${JSON.stringify(v)}, which is not a string.`)
    counts.set(v, (counts.get(v) ?? 0) + 1)
  }
  return { counts, nulls }
}

/** Number of distinct values of a sorted array. */
export const countDistinctSorted = (sorted: ArrayLike<number>): number => {
  if (sorted.length === 0) return 0
  let u = 1
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) u++
  return u
}

const distinctCounts = (sorted: Float64Array): Array<readonly [number, number]> => {
  const out: Array<readonly [number, number]> = []
  let i = 0
  while (i < sorted.length) {
    let j = i + 1
    while (j < sorted.length && sorted[j] === sorted[i]) j++
    out.push([sorted[i] === 0 ? 0 : sorted[i], j - i])
    i = j
  }
  return out
}

/** A uniform sample of k of the values without replacement (partial Fisher–Yates), sorted. */
const seededSample = (values: Float64Array, k: number, seed: number): Float64Array => {
  const r = rng(seed)
  const idx = new Uint32Array(values.length)
  for (let i = 0; i < idx.length; i++) idx[i] = i
  const out = new Float64Array(k)
  for (let i = 0; i < k; i++) {
    const j = i + r.int(idx.length - i)
    const t = idx[i]
    idx[i] = idx[j]
    idx[j] = t
    out[i] = values[idx[i]]
  }
  return sortFloat64(out)
}

export const profileNumericColumn = (
  name: string,
  values: ArrayLike<number | null>,
  options: ProfileOptions = {}
): NumericColumnProfile => {
  const maxSample = options.maxSample ?? 10_000
  const maxDistinct = options.maxDistinct ?? 20
  const seed = options.seed ?? 0
  const { values: finite, nulls } = finiteValues(values)
  const n = finite.length
  // mean and std in input order, so they equal np.mean / np.std of the same column
  const mean = n > 0 ? npMean(finite) : Number.NaN
  const std = n > 0 ? npStd(finite) : Number.NaN
  const sampled = n > maxSample
  // the sample is drawn in input order first; then the copy finiteValues made is sorted in place (no second copy)
  const sample = sampled ? seededSample(finite, maxSample, seed) : null
  const sortedAll = sortFloat64(finite)
  const unique = countDistinctSorted(sortedAll)
  const kept = sample ?? sortedAll
  return {
    name,
    kind: "numeric",
    n,
    nulls,
    unique,
    mean: n > 0 ? mean : 0,
    std: n > 0 ? std : 0,
    min: n > 0 ? sortedAll[0] : 0,
    max: n > 0 ? sortedAll[n - 1] : 0,
    sampled,
    sorted: Array.from(kept),
    distinct: unique <= maxDistinct ? distinctCounts(sortedAll) : null
  }
}

export const profileCategoricalColumn = (
  name: string,
  values: ReadonlyArray<string | null>
): CategoricalColumnProfile => {
  const { counts, nulls } = categoryCounts(values)
  const categories = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  let n = 0
  for (const [, c] of categories) n += c
  return { name, kind: "categorical", n, nulls, unique: categories.length, categories }
}

const entriesOf = (columns: ColumnsInput): Array<[string, ColumnValues]> =>
  columns instanceof Map
    ? [...(columns as ReadonlyMap<string, ColumnValues>).entries()]
    : Object.entries(columns as Record<string, ColumnValues>)

/** Builds the reference profile of a table given column by column. */
export const buildProfile = (columns: ColumnsInput, options: ProfileOptions = {}): ReferenceProfile => {
  const entries = entriesOf(columns)
  const rows = entries.length > 0 ? entries[0][1].length : 0
  for (const [name, values] of entries) {
    if (values.length !== rows)
      throw new Error(`Column "${name}" has ${values.length} rows but the first column has ${rows}.`)
  }
  const seed = options.seed ?? 0
  const cols = entries.map(([name, values]): ColumnProfile =>
    isCategoricalValues(values)
      ? profileCategoricalColumn(name, values)
      : profileNumericColumn(name, values as ArrayLike<number | null>, { ...options, seed })
  )
  return {
    format: PROFILE_FORMAT,
    rows,
    maxSample: options.maxSample ?? 10_000,
    maxDistinct: options.maxDistinct ?? 20,
    seed,
    columns: cols
  }
}

/** Checks that a parsed JSON value is a profile this version reads; throws one sentence otherwise. */
export const parseProfile = (json: unknown): ReferenceProfile => {
  const p = json as Partial<ReferenceProfile> | null
  if (p === null || typeof p !== "object") throw new Error("The reference profile is not a JSON object.")
  if (p.format !== PROFILE_FORMAT) {
    throw new Error(
      `The reference profile has format ${JSON.stringify(p.format)}, but this version reads "${PROFILE_FORMAT}".`
    )
  }
  if (!Array.isArray(p.columns)) throw new Error("The reference profile has no columns array.")
  for (const c of p.columns as ColumnProfile[]) {
    if (c === null || typeof c !== "object" || typeof c.name !== "string")
      throw new Error("The reference profile has a column without a name.")
    if (c.kind === "numeric") {
      if (!Array.isArray(c.sorted) || typeof c.n !== "number" || typeof c.std !== "number") {
        throw new Error(`Reference profile column "${c.name}" lacks its sorted values, n or std.`)
      }
      for (let i = 1; i < c.sorted.length; i++) {
        if (!(c.sorted[i - 1] <= c.sorted[i]))
          throw new Error(`Reference profile column "${c.name}" has values that are not sorted.`)
      }
    } else if (c.kind === "categorical") {
      if (!Array.isArray(c.categories))
        throw new Error(`Reference profile column "${c.name}" lacks its category counts.`)
    } else {
      throw new Error(
        `Reference profile column "${(c as { name: string }).name}" has unknown kind ${JSON.stringify((c as { kind: unknown }).kind)}.`
      )
    }
  }
  return p as ReferenceProfile
}

const sortedCache = new WeakMap<NumericColumnProfile, Float64Array>()

/**
 * The profile's sorted values as a Float64Array, converted once per profile object and cached
 * (no sort: the profile stores them sorted). Keeps the hot loops on one array type.
 */
export const sortedReference = (column: NumericColumnProfile): Float64Array => {
  let a = sortedCache.get(column)
  if (a === undefined) {
    a = Float64Array.from(column.sorted)
    sortedCache.set(column, a)
  }
  return a
}
