/**
 * The one rule for which CSV cells are missing values, used by schema inference, structural
 * validation, null fractions, the contract, drift batches and stage-training batches alike.
 *
 * It follows pandas' `read_csv` (`na_values`, `keep_default_na`) with one deliberate difference:
 * an empty (or whitespace-only) cell is always missing, even with `keep_default_na: false`,
 * because driftgate writes missing values as empty cells in its own split files, and a blank
 * cell has no other useful reading in a numeric column. Tokens match the cell exactly (pandas
 * does not trim: " NA" is a string, not missing); a declared token that is a number also matches
 * the same number written differently ("-999" matches "-999.0"), as pandas does.
 */

/** pandas' default missing-value tokens (pandas ≥ 2.0 `STR_NA_VALUES`, in pandas' documented order). */
export const PANDAS_DEFAULT_NA: ReadonlyArray<string> = [
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "None",
  "n/a",
  "nan",
  "null"
]

/** What dataset.yaml says about missing values (both optional; pandas' defaults otherwise). */
export interface MissingOptions {
  readonly na_values?: ReadonlyArray<string> | undefined
  readonly keep_default_na?: boolean | undefined
}

export interface MissingRule {
  /** Cells equal to one of these (exactly) are missing. */
  readonly tokens: ReadonlySet<string>
  /** The tokens declared in na_values (not the defaults): a label equal to one is a contradiction. */
  readonly declared: ReadonlySet<string>
  /** Numeric values of the declared tokens that are numbers ("-999" also matches "-999.0"). */
  readonly numbers: ReadonlySet<number>
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

const build = (tokens: Iterable<string>, declared: ReadonlyArray<string>): MissingRule => {
  const numbers = new Set<number>()
  for (const t of declared) {
    const s = t.trim()
    if (NUMBER_RE.test(s)) numbers.add(Number(s))
  }
  return { tokens: new Set(tokens), declared: new Set(declared), numbers }
}

/** Builds the rule from dataset.yaml's options: pandas' defaults (unless keep_default_na is false) + na_values. */
export const missingRule = (options: MissingOptions = {}): MissingRule => {
  const declared = options.na_values ?? []
  const base = options.keep_default_na === false ? [] : PANDAS_DEFAULT_NA
  return build([...base, ...declared], declared)
}

/**
 * Only blank cells are missing: how driftgate reads the files it wrote itself (splits, preprocessed
 * matrices), where every missing value was already written as an empty cell.
 */
export const BLANK_ONLY: MissingRule = build([], [])

/** Whether a raw cell (as read from the CSV, untrimmed) is a missing value under the rule. */
export const isMissing = (rule: MissingRule, cell: string): boolean => {
  if (rule.tokens.has(cell)) return true
  const s = cell.trim()
  if (s === "") return true
  return rule.numbers.size > 0 && NUMBER_RE.test(s) && rule.numbers.has(Number(s))
}

/** Per column: each token read as missing ("" for blank cells) → how many cells, and the first lines. */
export type MissingTally = ReadonlyArray<ReadonlyMap<string, { count: number; rows: number[] }>>

/** The token under which a missing cell is counted: blank cells all count as "". */
export const missingToken = (cell: string): string => (cell.trim() === "" ? "" : cell)

/** `"NA" ×11, empty ×2`: a tally of one column (or of a whole file) for messages and comments. */
export const describeTokens = (tokens: ReadonlyMap<string, number>): string =>
  [...tokens.entries()]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([t, n]) => `${t === "" ? "empty" : JSON.stringify(t)} ×${n}`)
    .join(", ")

/**
 * The comment an inferred dataset.yaml starts with: which tokens were read as missing, how many,
 * and in which columns (so a person sees at once what the defaults did to their file).
 */
export const missingComment = (header: ReadonlyArray<string>, tally: MissingTally): string => {
  const total = new Map<string, number>()
  const perColumn: string[] = []
  header.forEach((name, j) => {
    const col = tally[j]
    if (col === undefined || col.size === 0) return
    let n = 0
    for (const [t, { count }] of col) {
      total.set(t, (total.get(t) ?? 0) + count)
      n += count
    }
    perColumn.push(`${name} ${n}`)
  })
  if (total.size === 0)
    return "# No cell was read as missing (pandas' default tokens; see na_values, keep_default_na).\n"
  const cells = [...total.values()].reduce((a, b) => a + b, 0)
  return (
    `# Read as missing (pandas' default tokens; see na_values, keep_default_na): ${describeTokens(total)}` +
    ` = ${cells} cell(s); per column: ${perColumn.join(", ")}.\n`
  )
}

/**
 * A logged or posted record with its missing tokens as null: string values that the rule reads as
 * missing (a client sending "NA" for a category) count as missing, as they did in the training CSV.
 */
export const recordWithMissing = <V>(
  record: Readonly<Record<string, V>>,
  rule: MissingRule
): Readonly<Record<string, V | null>> => {
  let out: Record<string, V | null> | undefined
  for (const k in record) {
    const v = record[k]
    if (typeof v === "string" && isMissing(rule, v)) {
      out ??= { ...record }
      out[k] = null
    }
  }
  return out ?? record
}
