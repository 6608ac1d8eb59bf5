import fc from "fast-check"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { isNumeric, type TableColumn } from "../../src/domain/columnTable.js"
import {
  CsvColumnReader,
  type CsvReadOptions,
  type CsvReadResult,
  PANDAS_NA_VALUES,
  readCsvBytes,
  readCsvChunks
} from "../../src/domain/csvReader.js"

const FIXTURES = path.join(__dirname, "../fixtures/csv")
const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, "pandas_reference.json"), "utf8")) as {
  fixtures: Record<
    string,
    {
      rows: number
      columns: string[]
      data: Record<string, { kind: string; values: Array<string | null>; missing: number }>
    }
  >
}

const enc = new TextEncoder()
const opts: CsvReadOptions = { naValues: PANDAS_NA_VALUES }
const read = (text: string, o: Partial<CsvReadOptions> = {}) => readCsvBytes(enc.encode(text), { ...opts, ...o })

/** Feeds the bytes in pieces of `size` (the reader must not care where chunks end). */
const readInPieces = (bytes: Uint8Array, size: number, o: CsvReadOptions = opts): CsvReadResult =>
  readCsvChunks(function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size)
  }, o)

const cells = (c: TableColumn): Array<number | string | null> =>
  isNumeric(c)
    ? Array.from(c.values, (v) => (Number.isNaN(v) ? null : v))
    : Array.from(c.codes, (k) => (k < 0 ? null : c.dictionary[k]!))

const BOOL_TOKENS: Record<string, string> = {
  True: "true",
  true: "true",
  TRUE: "true",
  False: "false",
  false: "false",
  FALSE: "false"
}

describe("csvReader against pandas.read_csv (tests/fixtures/csv/pandas_reference.py)", () => {
  for (const [file, expected] of Object.entries(reference.fixtures)) {
    it(`${file}: same columns, kinds, cells and missing counts`, () => {
      const r = readCsvBytes(fs.readFileSync(path.join(FIXTURES, file)), opts)
      expect(r.violations).toEqual([])
      expect(r.header).toEqual(expected.columns)
      expect(r.table.rows).toBe(expected.rows)
      for (const c of r.table.columns) {
        const want = expected.data[c.name]!
        const info = r.info.find((i) => i.name === c.name)!
        expect(info.missing, c.name).toBe(want.missing)
        if (want.kind === "int" || want.kind === "float") {
          expect(isNumeric(c), c.name).toBe(true)
          // pandas: integers with a missing cell become float64
          expect(info.intLike && info.missing === 0 ? "int" : "float", c.name).toBe(want.kind)
          const got = cells(c)
          want.values.forEach((v, i) => {
            if (v === null) expect(got[i], `${c.name}[${i}]`).toBeNull()
            else expect(Object.is(got[i], Number(v)), `${c.name}[${i}] ${String(got[i])} vs ${v}`).toBe(true)
          })
        } else if (want.kind === "bool") {
          expect(isNumeric(c)).toBe(false)
          expect(cells(c).map((v) => (v === null ? null : BOOL_TOKENS[v]))).toEqual(want.values)
        } else {
          expect(isNumeric(c), c.name).toBe(false)
          expect(cells(c)).toEqual(want.values)
        }
      }
    })
  }

  it("counts the tokens read as missing", () => {
    const r = readCsvBytes(fs.readFileSync(path.join(FIXTURES, "r_export.csv")), opts)
    expect(Object.fromEntries(r.missingTokens)).toEqual({ NA: 5 })
  })
})

describe("csvReader numbers", () => {
  // Number() is ECMAScript's correctly rounded decimal conversion: the reader's fast path (exact integers
  // with up to 16 digits times or over a power of ten) and its slow path must both give its bits
  const decimal = fc.oneof(
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .chain((v) =>
        fc.constantFrom(
          String(v),
          v.toExponential(),
          ...Array.from({ length: 17 }, (_, k) => v.toPrecision(k + 1)),
          ...(Math.abs(v) < 1e15 ? [v.toFixed(6), v.toFixed(12)] : [])
        )
      ),
    fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[0-9]{1,20}$/),
        fc.stringMatching(/^[0-9]{0,20}$/),
        fc.option(fc.integer({ min: -330, max: 330 }), { nil: undefined })
      )
      .map(
        ([neg, int, frac, exp]) =>
          `${neg ? "-" : ""}${int}${frac === "" ? "" : "." + frac}${exp === undefined ? "" : "e" + exp}`
      )
  )
  it("reads the decimals at the fast path's bound to the double Number() gives", () => {
    // mantissas just below, at and above 2^53 (9007199254740992), with and without a power of ten
    const texts = [
      "9007199254740991e-3",
      "9007199254740993e-5",
      "9007199254740993.5e-3",
      "0.9007199254740993",
      "-900719925474099.3e7",
      "1.500000000000000000",
      "4.348159509202454",
      "1.0904907975460123",
      "123456789012345678e-5"
    ]
    const c = read(`x\n${texts.join("\n")}\n`).table.columns[0]!
    expect(isNumeric(c)).toBe(true)
    if (isNumeric(c)) texts.forEach((text, i) => expect(Object.is(c.values[i], Number(text)), text).toBe(true))
  })

  it("reads every decimal to the double Number() gives (16- and 17-digit ones included)", () => {
    fc.assert(
      fc.property(fc.array(decimal, { minLength: 1, maxLength: 40 }), (texts) => {
        const t = read(`x\n${texts.join("\n")}\n`).table
        const c = t.columns[0]!
        expect(isNumeric(c)).toBe(true)
        if (!isNumeric(c)) return
        texts.forEach((text, i) => expect(Object.is(c.values[i], Number(text)), `${text}: ${c.values[i]}`).toBe(true))
      }),
      { numRuns: 400 }
    )
  })
})

describe("csvReader structure", () => {
  it("gives the same table whatever the chunk boundaries", () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, "messy.csv"))
    const whole = readCsvBytes(bytes, opts)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: bytes.length }), (size) => {
        const r = readInPieces(bytes, size)
        expect(r.table.columns.map(cells)).toEqual(whole.table.columns.map(cells))
        expect(r.violations).toEqual(whole.violations)
        expect(r.lines === null ? null : Array.from(r.lines)).toEqual(
          whole.lines === null ? null : Array.from(whole.lines)
        )
      }),
      { numRuns: 60 }
    )
  })

  it("does not keep views into a chunk the caller reuses (fs.readSync into one Buffer)", () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, "numbers.csv"))
    const whole = readCsvBytes(bytes, opts)
    for (const size of [5, 16, 33]) {
      const reused = Buffer.alloc(size)
      const reader = new CsvColumnReader(opts)
      for (let i = 0; i < bytes.length; i += size) {
        const n = bytes.copy(reused, 0, i, i + size)
        reader.push(reused.subarray(0, n))
        reused.fill(57) // what the next read would overwrite
      }
      expect(reader.finish().table.columns.map(cells)).toEqual(whole.table.columns.map(cells))
    }
  })

  it("gives each row its starting line (embedded newlines and skipped empty lines shift them)", () => {
    const r = read('a,b\n1,"x\ny"\n\n2,z\n3,w')
    expect(Array.from(r.lines!)).toEqual([2, 5, 6])
    expect(read("a,b\n1,2\n3,4\n").lines).toBeNull()
  })

  it("keeps a column's original text when it turns into strings after numbers (second pass)", () => {
    const r = read("zip,v\n01234,1\n1.50,2\nA1B,3\n,4\n")
    const zip = r.table.columns[0]!
    expect(cells(zip)).toEqual(["01234", "1.50", "A1B", null])
    expect(r.reread).toEqual([])
    // a column whose first non-missing token is text needs no second pass
    const once = new CsvColumnReader(opts)
    once.push(enc.encode("c\nNA\nabc\n12\n"))
    const res = once.finish()
    expect(res.reread).toEqual([])
    expect(cells(res.table.columns[0]!)).toEqual([null, "abc", "12"])
  })

  it("reads a declared numeric missing token in any spelling of the number, in numeric and string columns", () => {
    const r = read("x,s\n-999,a\n-999.0,-999\n5,b\n", { naValues: new Set(["-999"]), naNumbers: new Set([-999]) })
    expect(r.table.columns.map(cells)).toEqual([
      [null, null, 5],
      ["a", null, "b"]
    ])
    expect(Object.fromEntries(r.missingTokens)).toEqual({ "-999": 2, "-999.0": 1 })
  })

  it("reports non-numbers in a declared numeric column as a dtype violation with their lines", () => {
    const r = read("x,y\n1,a\noops,b\n3,c\nbad,d\n", { numericColumns: new Set(["x"]) })
    expect(r.violations).toEqual([
      {
        column: "x",
        rule: "dtype",
        observed: '2 value(s) that are not int, e.g. "oops"',
        expected: "numbers (or a missing-value token)",
        rows: [3, 5]
      }
    ])
    expect(cells(r.table.columns[0]!)).toEqual([1, null, 3, null])
  })

  it("reads declared string columns as strings from the first row, and only the columns asked for", () => {
    const r = read("label,x,skip\n0,1.5,q\n1,2,r\n", {
      stringColumns: new Set(["label"]),
      onlyColumns: new Set(["label", "x"])
    })
    expect(r.table.columns.map((c) => [c.name, c.dtype])).toEqual([
      ["label", "string"],
      ["x", "float"]
    ])
    expect(cells(r.table.columns[0]!)).toEqual(["0", "1"])
  })

  it("lists structural problems: header names, wrong cell counts, an unclosed quote", () => {
    const r = read('a,a,\n1,2,3\n1,2\n4,5,6,7\n8,9,"open\n10,11,12\n')
    expect(r.violations.map((v) => [v.rule, v.rows])).toEqual([
      ["csv_syntax", [5]],
      ["duplicate_header", [1]],
      ["header", [1]],
      ["column_count", [3, 4]]
    ])
    expect(read("").violations.map((v) => v.rule)).toEqual(["non_empty"])
    expect(read("a,b\n").violations.map((v) => v.rule)).toEqual(["non_empty"])
  })

  it("hashes the same bytes it parses (one pass)", () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, "numbers.csv"))
    const h = createHash("sha256")
    readCsvChunks(
      function* () {
        for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7)
      },
      opts,
      (c) => h.update(c)
    )
    expect(h.digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"))
  })
})

describe("csvReader at size", () => {
  const N = 500_000
  const line = (i: number) => `${i},${i * 0.25},x${i % 7},${i % 3 === 0 ? "NA" : i}\n`
  const text = "a,b,c,d\n" + Array.from({ length: N }, (_, i) => line(i)).join("")
  const B = N - 3

  it("reads 500,000 rows into typed columns; a malformed line near the end is named, in about a clean parse's time", () => {
    const clean = enc.encode(text)
    let t0 = performance.now()
    const ok = readCsvBytes(clean, opts)
    const cleanMs = performance.now() - t0
    expect(ok.violations).toEqual([])
    expect(ok.table.rows).toBe(N)
    const [a, b, c, d] = ok.table.columns as [TableColumn, TableColumn, TableColumn, TableColumn]
    expect(a.dtype).toBe("int")
    expect(isNumeric(b) && b.values[N - 1]).toBe((N - 1) * 0.25)
    expect(!isNumeric(c) && c.dictionary.length).toBe(7)
    expect(ok.info[3]!.missing).toBe(Math.ceil(N / 3))
    expect(isNumeric(d) && d.values.length).toBe(N)

    const broken = enc.encode(text.replace(`\n${line(B)}`, `\n${B},${B * 0.25},x${B % 7}\n`))
    t0 = performance.now()
    const bad = readCsvBytes(broken, opts)
    const badMs = performance.now() - t0
    expect(bad.violations).toEqual([
      {
        column: null,
        rule: "column_count",
        observed: "1 row(s) with a different number of cells",
        expected: "4 cells per row, as in the header",
        rows: [B + 2]
      }
    ])
    // linear, not quadratic: the broken file costs about what the clean one does
    expect(badMs).toBeLessThan(3 * cleanMs + 500)
  })
})
