import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import {
  type CsvReadOptions,
  type CsvReadResult,
  PANDAS_NA_VALUES,
  readCsvChunks,
  recordsReadByLane
} from "../../src/domain/csvReader.js"

// The reader's compiled lane (csvWasm.ts) takes plain records of numbers and leaves everything else to the
// JavaScript loop: whatever it takes, the result must be the JavaScript reader's, bit for bit. Each case is
// read with the lane and without it (options.wasm: false), in pieces of several sizes (a record may span
// chunks), and the two results compared whole.

const enc = new TextEncoder()

const readInPieces = (bytes: Uint8Array, size: number, o: CsvReadOptions): CsvReadResult =>
  readCsvChunks(function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size)
  }, o)

/** The whole result as comparable data: numbers by their bits (NaN, -0 and +0 told apart). */
const comparable = (r: CsvReadResult): unknown =>
  JSON.parse(
    JSON.stringify(r, (_, v: unknown) => {
      if (v instanceof Float64Array)
        return Array.from(v, (x) => (Object.is(x, -0) ? "-0" : Number.isNaN(x) ? "NaN" : x))
      if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>)
      if (v instanceof Map) return [...(v as Map<unknown, unknown>).entries()]
      if (v instanceof Set) return [...(v as Set<unknown>)]
      return v
    })
  )

const both = (text: string, o: Partial<CsvReadOptions> = {}, sizes = [7, 61, 4096, 1 << 22]) => {
  const bytes = enc.encode(text)
  const options: CsvReadOptions = { naValues: PANDAS_NA_VALUES, ...o }
  const expected = comparable(readInPieces(bytes, 1 << 22, { ...options, wasm: false }))
  for (const size of sizes) expect(comparable(readInPieces(bytes, size, options))).toEqual(expected)
}

// number tokens the lane takes itself, and ones it leaves to the slow path (fix-ups) or to the reader
const numberTokens = [
  "0",
  "-0",
  "+0",
  "7",
  "-12",
  "+3",
  "007",
  "1.5",
  "-2.25",
  ".5",
  "5.",
  "-.5",
  "0.000123",
  "1e5",
  "1E5",
  "-3e-2",
  "2.5e+3",
  "1e22",
  "1e-22",
  "1e23",
  "1e-23",
  "1e300",
  "4.9e-324",
  "1e-400",
  "1e400",
  "12345678901234567",
  "1.0904907975460123",
  "9007199254740991",
  "9007199254740993",
  "0.1234567890123456789",
  " 42",
  "42 ",
  "\t3.5\t",
  " -1e3 "
]
const otherTokens = [
  "",
  " ",
  "NA",
  "nan",
  "-nan",
  "N/A",
  "NULL",
  "abc",
  "1e",
  "1.2.3",
  "-",
  "+",
  ".",
  "e5",
  '"7"',
  '"1,5"'
]

const randomCsv = (seed: number, rows: number, cols: number, plain: number): string => {
  const r = rng(seed)
  const pick = <T>(a: ReadonlyArray<T>): T => a[Math.floor(r.next() * a.length)]!
  const lines = [Array.from({ length: cols }, (_, j) => `c${j}`).join(",")]
  for (let i = 0; i < rows; i++) {
    const u = r.next()
    if (u < plain) {
      lines.push(Array.from({ length: cols }, () => pick(numberTokens)).join(","))
      continue
    }
    const cells = Array.from({ length: cols }, () => (r.next() < 0.7 ? pick(numberTokens) : pick(otherTokens)))
    const v = r.next()
    if (v < 0.1) cells.pop()
    else if (v < 0.15) cells.push("1")
    lines.push(v < 0.2 && v >= 0.15 ? "" : cells.join(","))
  }
  // line ends: LF, CRLF, and now and then a lone CR
  let text = ""
  for (const l of lines) {
    const w = r.next()
    text += l + (w < 0.6 ? "\n" : w < 0.97 ? "\r\n" : "\r")
  }
  return r.next() < 0.5 ? text : text.replace(/\r?\n$/, "")
}

describe("CSV reader: the compiled lane reads what the JavaScript loop reads", () => {
  it("on random files of numbers, blanks, missing-value tokens, text, quotes, odd records and line ends", () => {
    const before = recordsReadByLane()
    for (let seed = 1; seed <= 40; seed++) {
      const cols = 1 + (seed % 6)
      const text = randomCsv(seed, 60 + seed * 7, cols, seed % 3 === 0 ? 0.95 : 0.6)
      both(text)
      // declared numeric columns (a token that is not a number is a violation, never a switch to strings)
      both(text, { numericColumns: new Set(["c0", "c1"]) })
      // a column not read
      if (cols > 1) both(text, { onlyColumns: new Set(["c0"]) })
      // numbers declared missing: the lane stands aside
      both(text, { naNumbers: new Set([7, -0]) })
    }
    expect(recordsReadByLane()).toBeGreaterThan(before)
  })

  it("every number token alone and in a column of plain records, chunked anywhere", () => {
    for (const t of numberTokens) both(`x,y\n${t},1\n1,${t}\n2,3\n`)
    const rows = Array.from({ length: 500 }, (_, i) => `${numberTokens[i % numberTokens.length]},${i},${-i / 8}`)
    both(`a,b,c\n${rows.join("\n")}\n`, {}, [1, 2, 3, 5, 64, 1000, 1 << 22])
  })

  it("columns that turn into strings part-way, integer columns that meet a float, and a file without a last line end", () => {
    const ints = Array.from({ length: 300 }, (_, i) => `${i},${i * 2}`).join("\n")
    both(`a,b\n${ints}\n1.5,3\n`)
    both(`a,b\n${ints}\nx,3\n4,5\n`)
    both(`a,b\n${ints}\n7,8`)
    both(`a\n${Array.from({ length: 100 }, (_, i) => `${i}`).join("\n")}\n\n5\n`)
    // a quoted field with a line break and a comma in a column that is not read: one record, not two
    both(`a,b\n${ints}\n1,"x\n2,y"\n3,"q"\n4,5\n`, { onlyColumns: new Set(["a"]) })
  })

  it("sized up front (16,384 records a call), more than 4,096 slow-path numbers a call, 64 and 65 columns", () => {
    const r = rng(21)
    // 40,000 rows, two 17-digit numbers each: batches end at 16,384 records and at 4,096 fix-ups
    const rows = Array.from(
      { length: 40_000 },
      (_, i) => `${i},${(r.next() * 10).toFixed(16)},${-r.next().toFixed(17)},${i % 7}.5`
    )
    const text = `a,b,c,d\n${rows.join("\n")}\n`
    const before = recordsReadByLane()
    both(text, { sizeHint: text.length }, [1 << 20, 1 << 22])
    expect(recordsReadByLane() - before).toBeGreaterThan(40_000)
    // short tokens that all need the slow path (powers of ten beyond 1e±22): fix-ups fill up faster than
    // the records they come from
    const tiny = Array.from({ length: 3000 }, (_, i) =>
      Array.from({ length: 20 }, (_, j) => `${(i + j) % 9}e-3${j % 10}`)
    )
    const tinyText = `${Array.from({ length: 20 }, (_, j) => `t${j}`).join(",")}\n${tiny.map((r) => r.join(",")).join("\n")}\n`
    both(tinyText, { sizeHint: tinyText.length }, [1 << 20])
    // every column bit of the float mask, and one column more than the lane takes
    for (const cols of [64, 65]) {
      const header = Array.from({ length: cols }, (_, j) => `c${j}`).join(",")
      const body = Array.from({ length: 300 }, (_, i) =>
        Array.from({ length: cols }, (_, j) => (j === cols - 1 && i === 150 ? "2.5" : `${i + j}`)).join(",")
      )
      both(`${header}\r\n${body.join("\r\n")}\r\n`, { sizeHint: 10_000 })
    }
  })

  it("on the shipped datasets and the R export fixture", () => {
    const files = [
      ...fs
        .readdirSync(path.join(__dirname, "../../data/raw"))
        .map((d) => path.join(__dirname, "../../data/raw", d, "data.csv"))
        .filter((f) => fs.existsSync(f)),
      path.join(__dirname, "../fixtures/csv/r_export.csv"),
      path.join(__dirname, "../fixtures/csv/messy.csv"),
      path.join(__dirname, "../fixtures/csv/numbers.csv")
    ]
    for (const f of files) {
      const text = fs.readFileSync(f, "utf8")
      both(text, {}, [4096, 1 << 22])
    }
  })
})
