import {
  type ColumnFrame,
  columnLength,
  dictionaryOf,
  type FrameColumn,
  isNumericColumn,
  toCategory,
  toNumber,
  type Dtype,
  type Scalar
} from "./frame.js"
import { LearnerInputError, type Matrix } from "./matrix.js"
import { sortFloat64, sortIsCompiled, WASM_MIN } from "../domain/sort.js"

/**
 * Preprocessing transforms with plain, versioned, JSON-serialisable fitted state (scikit-learn's
 * SimpleImputer, StandardScaler, MinMaxScaler, OneHotEncoder, OrdinalEncoder and ColumnTransformer).
 * The same fitted state is applied at training, serving (one row) and drift time.
 *
 * Per numeric column: impute, then scale (the scaler is fitted on imputed values, as in a
 * scikit-learn Pipeline). Per string/bool column: impute with the most frequent category (whatever
 * numeric strategy the spec names), then encode. One-hot features are not scaled.
 */

export type ScaleStrategy = "standard" | "minmax" | "none"
export type ImputeStrategy = "mean" | "median" | "most_frequent" | "none"
export type EncodeStrategy = "one_hot" | "ordinal" | "none"

export interface PreprocessSpec {
  readonly scale: ScaleStrategy
  readonly impute: ImputeStrategy
  readonly encode: EncodeStrategy
}

// ---------------------------------------------------------------------------------------------
// Column transforms

export interface ScalerState {
  readonly kind: "standard" | "minmax"
  /** Subtracted first: the mean (standard) or the minimum (minmax). */
  readonly offset: number
  /** Then divided by: the population std (standard) or the range (minmax); 1 for a constant column. */
  readonly scale: number
}

const EPS = 2.220446049250313e-16

/**
 * Standard scaler over the non-missing values: population std; a constant column gets scale 1 (like
 * scikit-learn). With `fill`, missing cells count as that value (the scaler after an imputer), without a copy.
 */
export const fitStandardScaler = (values: Float64Array, fill = NaN): ScalerState => {
  let n = 0,
    s = 0
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!
    if (v !== v) v = fill
    if (!Number.isNaN(v)) {
      n++
      s += v
    }
  }
  if (n === 0) return { kind: "standard", offset: 0, scale: 1 }
  const mean = s / n
  let ss = 0,
    sd = 0
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!
    if (v !== v) v = fill
    if (Number.isNaN(v)) continue
    const d = v - mean
    ss += d * d
    sd += d
  }
  const variance = (ss - (sd * sd) / n) / n
  // scikit-learn's _is_constant_feature: variance within rounding error of zero
  const constant = variance <= n * EPS * variance + (n * mean * EPS) ** 2
  // the second pass's residual sum corrects the mean's rounding (a constant column then scales to exactly 0)
  return { kind: "standard", offset: mean + sd / n, scale: constant ? 1 : Math.sqrt(variance) }
}

/** Min-max scaler to [0, 1] over the non-missing values; a constant column gets scale 1. */
export const fitMinMaxScaler = (values: Float64Array, fill = NaN): ScalerState => {
  let lo = Infinity,
    hi = -Infinity
  for (let i = 0; i < values.length; i++) {
    let v = values[i]!
    if (v !== v) v = fill
    if (Number.isNaN(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (lo === Infinity) return { kind: "minmax", offset: 0, scale: 1 }
  const range = hi - lo
  return { kind: "minmax", offset: lo, scale: range < 10 * EPS ? 1 : range }
}

export const applyScaler = (s: ScalerState, v: number): number => (v - s.offset) / s.scale

export interface NumericImputerState {
  readonly strategy: "mean" | "median" | "most_frequent"
  readonly value: number
}

/**
 * The values at positions k and k + 1 (0-based; k + 1 only when `pair`) of `a` sorted as
 * Float64Array.prototype.sort sorts it (-0 before +0; NaN must not be present), without sorting: a radix
 * selection over each value's bits mapped to an unsigned key in the sort's order (sign flipped for
 * positives, every bit for negatives), 16 bits a pass. Each pass counts the candidates' digits and keeps
 * the bucket holding rank k; when rank k + 1 starts the next bucket, the pair is the largest of the one and
 * the smallest of the other. A bucket of at most 64 values is sorted. Linear, and without the unpredictable
 * comparisons of a quickselect's partitions. `a` is left as it is.
 */
const selectSorted = (a: Float64Array, k: number, pair: boolean): readonly [number, number] => {
  if (!(k >= 0 && k + (pair ? 1 : 0) < a.length))
    throw new RangeError(`orderStatistic: rank ${k} of ${a.length} values`)
  const counts = new Int32Array(65536)
  let cand = a
  for (let level = 0; level < 4 && cand.length > 64; level++) {
    const u = new Uint32Array(cand.buffer, cand.byteOffset, cand.length * 2)
    const n = cand.length
    // the digit of value i at this level: bits 63..48, 47..32, 31..16 or 15..0 of its key
    const word = level < 2 ? 1 : 0
    const shift = (level & 1) === 0 ? 16 : 0
    const flip = word === 1 ? 0x80000000 : 0
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[((u[2 * i + word]! ^ (-(u[2 * i + 1]! >>> 31) | flip)) >>> shift) & 0xffff]!++
    let bucket = 0
    let before = 0
    while (before + counts[bucket]! <= k) before += counts[bucket++]!
    k -= before
    if (pair && k + 1 === counts[bucket]!) {
      // rank k is this bucket's last value, rank k + 1 the next non-empty bucket's first
      let next = bucket + 1
      while (counts[next] === 0) next++
      let lo = -Infinity
      let hi = Infinity
      for (let i = 0; i < n; i++) {
        const d = ((u[2 * i + word]! ^ (-(u[2 * i + 1]! >>> 31) | flip)) >>> shift) & 0xffff
        const v = cand[i]!
        if (d === bucket && v > lo) lo = v
        else if (d === next && v < hi) hi = v
      }
      return [lo, hi]
    }
    const kept = new Float64Array(counts[bucket]!)
    for (let i = 0, j = 0; i < n; i++) {
      if ((((u[2 * i + word]! ^ (-(u[2 * i + 1]! >>> 31) | flip)) >>> shift) & 0xffff) === bucket) kept[j++] = cand[i]!
    }
    cand = kept
  }
  // the values left share all the bits selected on so far; sorted as the whole array would order them
  const sorted = (cand === a ? cand.slice() : cand).sort()
  return [sorted[k]!, pair ? sorted[k + 1]! : NaN]
}

/** The value at position k of `a` sorted (see selectSorted). */
export const orderStatistic = (a: Float64Array, k: number): number => selectSorted(a, k, false)[0]

/** The values at positions k and k + 1 of `a` sorted (see selectSorted). */
export const orderStatisticPair = (a: Float64Array, k: number): readonly [number, number] => selectSorted(a, k, true)

/** From this many values the median imputer selects rather than sorts (see fitNumericImputer). */
const SELECT_ROWS = 262_144

/** Fill value for NaNs: mean, median or most frequent (smallest on ties) of the non-missing values. */
export const fitNumericImputer = (
  values: Float64Array,
  strategy: "mean" | "median" | "most_frequent",
  column = "?"
): NumericImputerState => {
  // a plain loop: TypedArray.filter with a callback is ~100x slower at a million rows; without NaN the
  // median selects on the column itself (the selection leaves it as it is)
  let m = 0
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) m++
  const present = m === values.length && strategy === "median" ? values : new Float64Array(m)
  if (present !== values) {
    for (let i = 0, k = 0; i < values.length; i++) {
      const v = values[i]!
      if (v === v) present[k++] = v
    }
  }
  if (present.length === 0) {
    throw new LearnerInputError(`column ${column} has no non-missing values to impute from`)
  }
  let value: number
  if (strategy === "median") {
    const mid = present.length >> 1
    if (present.length >= WASM_MIN && present.length < SELECT_ROWS && sortIsCompiled()) {
      // a compiled radix sort (of a copy when `present` is the column itself) is cheaper here than the
      // selection below, which a run calls once per column, as cold code: 44 ms against 35 ms for the 8
      // columns of 82,560 rows in the 100k scale run. The same middle values, bit for bit. Larger columns
      // select (linear, optimised within the first column, no copy: the sort's memory would stay at 16
      // bytes a value).
      const sorted = sortFloat64(present === values ? values.slice() : present)
      return { strategy, value: present.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2 }
    }
    // selection, not a sort: the sorted array's middle (or middle pair), bit for bit, in linear time
    if (present.length % 2 === 1) value = orderStatistic(present, mid)
    else {
      const [lo, hi] = orderStatisticPair(present, mid - 1)
      value = (lo + hi) / 2
    }
    return { strategy, value }
  }
  present.sort()
  if (strategy === "mean") {
    let s = 0
    for (let i = 0; i < present.length; i++) s += present[i]!
    value = s / present.length
  } else {
    let best = present[0]!,
      bestCount = 0
    for (let i = 0; i < present.length;) {
      let j = i
      while (j < present.length && present[j] === present[i]) j++
      if (j - i > bestCount) {
        bestCount = j - i
        best = present[i]!
      }
      i = j
    }
    value = best
  }
  return { strategy, value }
}

/** Most frequent non-missing category (smallest on ties, like scikit-learn). */
export const fitCategoricalImputer = (values: ReadonlyArray<string | null>, column = "?"): string => {
  const best = mostFrequent(countCategories(values))
  if (best === null) throw new LearnerInputError(`column ${column} has no non-missing values to impute from`)
  return best
}

const countCategories = (values: ReadonlyArray<string | null>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1)
  return counts
}

/** Sorted distinct non-missing categories. */
export const fitCategories = (values: ReadonlyArray<string | null>): string[] =>
  [...countCategories(values).keys()].sort()

/** Category counts of a dictionary-encoded column (one pass over the codes, no strings per cell). */
const countCodes = (codes: Int32Array, dictionary: ReadonlyArray<string>): Map<string, number> => {
  const perCode = new Float64Array(dictionary.length)
  for (let i = 0; i < codes.length; i++) {
    const k = codes[i]!
    if (k >= 0) perCode[k]!++
  }
  const counts = new Map<string, number>()
  for (let k = 0; k < dictionary.length; k++) {
    if (perCode[k]! > 0) counts.set(dictionary[k]!, (counts.get(dictionary[k]!) ?? 0) + perCode[k]!)
  }
  return counts
}

/** Most frequent category of the counts (smallest on ties), or null when there are none. */
const mostFrequent = (counts: ReadonlyMap<string, number>): string | null => {
  let best: string | null = null,
    bestCount = 0
  for (const [cat, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== null && cat < best)) {
      best = cat
      bestCount = c
    }
  }
  return best
}

// ---------------------------------------------------------------------------------------------
// Column transformer

export interface NumericStep {
  readonly kind: "numeric"
  readonly name: string
  readonly dtype: "float" | "int"
  readonly impute: NumericImputerState | null
  readonly scale: ScalerState | null
}

export interface CategoricalStep {
  readonly kind: "categorical"
  readonly name: string
  readonly dtype: "string" | "bool"
  /** Fill value for missing cells, or null (missing one-hot → all zeros, missing ordinal → NaN). */
  readonly impute: string | null
  readonly encode: "one_hot" | "ordinal"
  /** Sorted; unknown categories at transform time → all zeros (one-hot) or -1 (ordinal), and counted. */
  readonly categories: ReadonlyArray<string>
}

export type ColumnStep = NumericStep | CategoricalStep

export interface ColumnTransformerState {
  readonly format: "driftgate.column_transformer/1"
  readonly spec: PreprocessSpec
  readonly steps: ReadonlyArray<ColumnStep>
  readonly featureNames: ReadonlyArray<string>
}

export interface TransformResult {
  /** Rows × features, row-major. */
  readonly matrix: Matrix
  readonly featureNames: ReadonlyArray<string>
  /** Per encoded column, cells whose category was not seen at fit time. */
  readonly unknownCategories: Record<string, number>
}

export interface RowTransformResult {
  readonly values: Float64Array
  readonly unknownCategories: Record<string, number>
}

const FORMAT = "driftgate.column_transformer/1"

const checkSpec = (spec: PreprocessSpec): void => {
  if (!["standard", "minmax", "none"].includes(spec.scale))
    throw new LearnerInputError(`unknown scale strategy ${spec.scale}`)
  if (!["mean", "median", "most_frequent", "none"].includes(spec.impute))
    throw new LearnerInputError(`unknown impute strategy ${spec.impute}`)
  if (!["one_hot", "ordinal", "none"].includes(spec.encode))
    throw new LearnerInputError(`unknown encode strategy ${spec.encode}`)
}

const fitStep = (c: FrameColumn, spec: PreprocessSpec): ColumnStep => {
  if (isNumericColumn(c)) {
    const impute = spec.impute === "none" ? null : fitNumericImputer(c.values, spec.impute, c.name)
    let scale: ScalerState | null = null
    if (spec.scale !== "none") {
      const fill = impute === null ? NaN : impute.value
      scale = spec.scale === "standard" ? fitStandardScaler(c.values, fill) : fitMinMaxScaler(c.values, fill)
    }
    return { kind: "numeric", name: c.name, dtype: c.dtype, impute, scale }
  }
  if (spec.encode === "none") {
    throw new LearnerInputError(`column ${c.name} is ${c.dtype}; set encode to one_hot or ordinal to use it`)
  }
  const { codes, dictionary } = dictionaryOf(c)
  const counts = countCodes(codes, dictionary)
  let impute: string | null = null
  if (spec.impute !== "none") {
    impute = mostFrequent(counts)
    if (impute === null) throw new LearnerInputError(`column ${c.name} has no non-missing values to impute from`)
  }
  const categories = [...counts.keys()].sort()
  return { kind: "categorical", name: c.name, dtype: c.dtype, impute, encode: spec.encode, categories }
}

const stepFeatureNames = (s: ColumnStep): string[] =>
  s.kind === "categorical" && s.encode === "one_hot" ? s.categories.map((c) => `${s.name}=${c}`) : [s.name]

/** Fits imputers, scalers and encoders for every column of the frame, in column order. */
export const fitColumnTransformer = (f: ColumnFrame, spec: PreprocessSpec): ColumnTransformerState => {
  checkSpec(spec)
  const steps = f.columns.map((c) => fitStep(c, spec))
  return {
    format: FORMAT,
    spec: { scale: spec.scale, impute: spec.impute, encode: spec.encode },
    steps,
    featureNames: steps.flatMap(stepFeatureNames)
  }
}

const width = (s: ColumnStep): number => (s.kind === "categorical" && s.encode === "one_hot" ? s.categories.length : 1)

const lookups = new WeakMap<CategoricalStep, Map<string, number>>()
const lookup = (s: CategoricalStep): Map<string, number> => {
  let m = lookups.get(s)
  if (m === undefined) {
    m = new Map(s.categories.map((c, i) => [c, i]))
    lookups.set(s, m)
  }
  return m
}

const numericValue = (s: NumericStep, raw: number): number => {
  const v = Number.isNaN(raw) && s.impute !== null ? s.impute.value : raw
  return s.scale === null ? v : applyScaler(s.scale, v)
}

/** Writes one categorical cell at out[o…]; returns true when the category is unknown. */
const encodeCategory = (s: CategoricalStep, raw: string | null, out: Float64Array, o: number): boolean => {
  const v = raw === null ? s.impute : raw
  const idx = v === null ? undefined : lookup(s).get(v)
  if (s.encode === "one_hot") {
    if (idx !== undefined) out[o + idx] = 1
  } else {
    out[o] = v === null ? NaN : idx === undefined ? -1 : idx
  }
  return v !== null && idx === undefined
}

const checkState = (state: ColumnTransformerState): void => {
  if (state.format !== FORMAT)
    throw new LearnerInputError(`expected preprocessing state ${FORMAT}, got ${String(state.format)}`)
}

const dtypeMismatch = (s: ColumnStep, dtype: Dtype): LearnerInputError =>
  new LearnerInputError(`column ${s.name} was fitted as ${s.dtype} but is ${dtype} now`)

/**
 * Category index (in the fitted categories) of each dictionary code, after imputation: -1 for a
 * missing cell left missing, -2 for a category not seen at fit time.
 */
const codeMap = (s: CategoricalStep, dictionary: ReadonlyArray<string>): { map: Int32Array; missing: number } => {
  const known = lookup(s)
  const map = new Int32Array(dictionary.length)
  for (let k = 0; k < dictionary.length; k++) map[k] = known.get(dictionary[k]!) ?? -2
  const missing = s.impute === null ? -1 : (known.get(s.impute) ?? -2)
  return { map, missing }
}

/**
 * Writes one step's features for rows 0..n-1: feature f of row i goes to out[i * rowStride + (o + f) * colStride].
 * Returns the count of unknown categories (0 for a numeric step).
 */
const writeStep = (
  s: ColumnStep,
  c: FrameColumn,
  n: number,
  out: Float64Array,
  o: number,
  rowStride: number,
  colStride: number
): number => {
  if (s.kind === "numeric") {
    if (!isNumericColumn(c)) throw dtypeMismatch(s, c.dtype)
    const v = c.values
    const fill = s.impute === null ? NaN : s.impute.value
    const offset = s.scale === null ? 0 : s.scale.offset
    const scale = s.scale === null ? 1 : s.scale.scale
    const base = o * colStride
    for (let i = 0; i < n; i++) {
      let x = v[i]!
      if (x !== x) x = fill
      out[base + i * rowStride] = (x - offset) / scale
    }
    return 0
  }
  if (isNumericColumn(c)) throw dtypeMismatch(s, c.dtype)
  const { codes, dictionary } = dictionaryOf(c)
  const { map, missing } = codeMap(s, dictionary)
  let unknown = 0
  if (s.encode === "one_hot") {
    for (let i = 0; i < n; i++) {
      const k = codes[i]!
      const idx = k < 0 ? missing : map[k]!
      if (idx >= 0) out[i * rowStride + (o + idx) * colStride] = 1
      else if (idx === -2) unknown++
    }
  } else {
    const base = o * colStride
    for (let i = 0; i < n; i++) {
      const k = codes[i]!
      const idx = k < 0 ? missing : map[k]!
      if (idx === -2) unknown++
      out[base + i * rowStride] = idx === -1 ? NaN : idx === -2 ? -1 : idx
    }
  }
  return unknown
}

const transformInto = (
  state: ColumnTransformerState,
  f: ColumnFrame,
  out: Float64Array,
  rowStride: number,
  colStride: number
): Record<string, number> => {
  checkState(state)
  const byName = new Map(f.columns.map((c) => [c.name, c]))
  const n = f.rows
  const unknownCategories: Record<string, number> = {}
  let o = 0
  for (const s of state.steps) {
    const c = byName.get(s.name)
    if (c === undefined) throw new LearnerInputError(`column ${s.name} is missing from the input`)
    if (columnLength(c) !== n)
      throw new LearnerInputError(`column ${s.name} has ${columnLength(c)} values, expected ${n}`)
    const unknown = writeStep(s, c, n, out, o, rowStride, colStride)
    if (s.kind === "categorical") unknownCategories[s.name] = unknown
    o += width(s)
  }
  return unknownCategories
}

/** Applies a fitted state to a frame (columns matched by name; extra columns are ignored). */
export const transformFrame = (state: ColumnTransformerState, f: ColumnFrame): TransformResult => {
  const p = state.featureNames.length,
    n = f.rows
  const data = new Float64Array(n * p)
  const unknownCategories = transformInto(state, f, data, p, 1)
  return { matrix: { rows: n, cols: p, data }, featureNames: state.featureNames, unknownCategories }
}

export interface ColumnsTransformResult {
  readonly rows: number
  readonly featureNames: ReadonlyArray<string>
  /**
   * Feature j's values, rows long. A number column the transform leaves as it is (no scaler, nothing to
   * impute) is the input column itself, not a copy: treat the columns as read-only.
   */
  readonly columns: ReadonlyArray<Float64Array>
  readonly unknownCategories: Record<string, number>
}

/** Whether a numeric step gives back every value of `v` unchanged ((x - 0) / 1 is x, -0 included). */
const leavesAsIs = (s: ColumnStep, v: Float64Array): boolean => {
  if (s.kind !== "numeric") return false
  if (s.scale !== null && (s.scale.offset !== 0 || s.scale.scale !== 1)) return false
  if (s.impute === null) return true
  for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) return false
  return true
}

/**
 * transformFrame with a column-major result (same values): for storage as columns and column-scanning
 * learners. A number column the transform does not change is passed through (a million-row split's
 * copy of columns it would not change cost ~0.3 s, most of it the first touch of new memory).
 */
export const transformFrameColumns = (state: ColumnTransformerState, f: ColumnFrame): ColumnsTransformResult => {
  checkState(state)
  const byName = new Map(f.columns.map((c) => [c.name, c]))
  const n = f.rows
  const columns: Float64Array[] = []
  const unknownCategories: Record<string, number> = {}
  for (const s of state.steps) {
    const c = byName.get(s.name)
    if (c === undefined) throw new LearnerInputError(`column ${s.name} is missing from the input`)
    if (columnLength(c) !== n)
      throw new LearnerInputError(`column ${s.name} has ${columnLength(c)} values, expected ${n}`)
    if (isNumericColumn(c) && leavesAsIs(s, c.values)) {
      columns.push(c.values)
      continue
    }
    const w = width(s)
    const block = new Float64Array(n * w)
    const unknown = writeStep(s, c, n, block, 0, 1, n)
    if (s.kind === "categorical") unknownCategories[s.name] = unknown
    for (let j = 0; j < w; j++) columns.push(block.subarray(j * n, (j + 1) * n))
  }
  return { rows: n, featureNames: state.featureNames, columns, unknownCategories }
}

/**
 * Applies a fitted state to one record (a serving request). null is a missing value; an absent
 * column is an error. Gives exactly the row transformFrame gives for the same values.
 */
export const transformRow = (
  state: ColumnTransformerState,
  row: Readonly<Record<string, Scalar>>
): RowTransformResult => {
  checkState(state)
  const values = new Float64Array(state.featureNames.length)
  const unknownCategories: Record<string, number> = {}
  let o = 0
  for (const s of state.steps) {
    if (!Object.prototype.hasOwnProperty.call(row, s.name)) {
      throw new LearnerInputError(`column ${s.name} is missing from the input`)
    }
    const raw = row[s.name]
    if (s.kind === "numeric") {
      values[o] = numericValue(s, toNumber(raw, s.name))
    } else {
      unknownCategories[s.name] = encodeCategory(s, toCategory(raw), values, o) ? 1 : 0
    }
    o += width(s)
  }
  return { values, unknownCategories }
}
