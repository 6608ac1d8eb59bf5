/** A dense matrix of float64, row-major: element (i, j) is data[i * cols + j]. */
export interface Matrix {
  readonly rows: number
  readonly cols: number
  /** Row-major: element (i, j) at data[i * cols + j]. */
  readonly data: Float64Array
  /**
   * The same values column by column (columns[j][i] is element (i, j)), when the producer has them: a
   * learner that scans columns reads these instead of `data` (whose row-major copy a producer may then
   * make only when asked for it: a million-row training matrix is ~0.2 s to lay out).
   */
  readonly columns?: ReadonlyArray<Float64Array>
}

export const matrix = (rows: number, cols: number, data?: Float64Array): Matrix => {
  const d = data ?? new Float64Array(rows * cols)
  if (d.length !== rows * cols) {
    throw new RangeError(`matrix data has ${d.length} values, expected ${rows} × ${cols} = ${rows * cols}`)
  }
  return { rows, cols, data: d }
}

export const fromRows = (rows: ReadonlyArray<ReadonlyArray<number>>): Matrix => {
  const r = rows.length
  const c = r === 0 ? 0 : rows[0]!.length
  const data = new Float64Array(r * c)
  for (let i = 0; i < r; i++) {
    const row = rows[i]!
    if (row.length !== c) throw new RangeError(`row ${i} has ${row.length} values, expected ${c}`)
    for (let j = 0; j < c; j++) data[i * c + j] = row[j]!
  }
  return { rows: r, cols: c, data }
}

export const row = (m: Matrix, i: number): Float64Array => m.data.subarray(i * m.cols, (i + 1) * m.cols)

/** Selects rows by index (a copy). */
export const takeRows = (m: Matrix, idx: ArrayLike<number>): Matrix => {
  const out = new Float64Array(idx.length * m.cols)
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!
    out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), k * m.cols)
  }
  return { rows: idx.length, cols: m.cols, data: out }
}

/** Column-major copy (for learners that scan columns, e.g. split finding and binning). */
export const toColumnMajor = (m: Matrix): Float64Array => {
  const out = new Float64Array(m.rows * m.cols)
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.data[i * m.cols + j]!
  }
  return out
}

/** Error thrown by learners for input they cannot use; `column` names the offending feature when known. */
export class LearnerInputError extends Error {
  readonly column: number | undefined
  constructor(message: string, column?: number) {
    super(message)
    this.name = "LearnerInputError"
    this.column = column
  }
}

/** Rejects NaN/±Infinity, naming the first offending column (learners without missing-value support). */
export const assertFinite = (m: Matrix, featureNames?: ReadonlyArray<string>): void => {
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j]!
      if (!Number.isFinite(v)) {
        const name = featureNames?.[j] ?? `#${j}`
        throw new LearnerInputError(
          `feature ${name} has a non-finite value (${v}) at row ${i}; impute missing values first`,
          j
        )
      }
    }
  }
}
