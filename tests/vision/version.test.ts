import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { sha256Hex } from "../../src/domain/hash.js"
import { imageDatasetVersion } from "../../src/vision/version.js"

const h = (s: string) => sha256Hex(s)
const base = [
  { path: "bag/00023.png", sha256: h("a") },
  { path: "bag/00035.png", sha256: h("b") },
  { path: "coat/00019.png", sha256: h("c") }
]

describe("imageDatasetVersion", () => {
  it("is the SHA-256 of the canonical sorted (path, digest) list", () => {
    const expected = sha256Hex(JSON.stringify(["driftgate-image-dataset/1", base.map((e) => [e.path, e.sha256])]))
    expect(imageDatasetVersion(base)).toBe(expected)
    expect(imageDatasetVersion([])).toMatch(/^[0-9a-f]{64}$/)
  })

  it("ignores listing order", () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(base, { minLength: 3, maxLength: 3 }), (shuffled) => {
        expect(imageDatasetVersion(shuffled)).toBe(imageDatasetVersion(base))
      })
    )
  })

  it("changes on a rename, a class move, an edit, an addition and a removal", () => {
    const v = imageDatasetVersion(base)
    const variants = [
      base.map((e, i) => (i === 0 ? { ...e, path: "bag/00024.png" } : e)),
      base.map((e, i) => (i === 0 ? { ...e, path: "coat/00023.png" } : e)),
      base.map((e, i) => (i === 1 ? { ...e, sha256: h("b'") } : e)),
      [...base, { path: "dress/00003.png", sha256: h("d") }],
      base.slice(1)
    ]
    const versions = new Set(variants.map(imageDatasetVersion))
    expect(versions.size).toBe(variants.length)
    expect(versions.has(v)).toBe(false)
  })

  it("cannot be fooled by separators inside names (the encoding is unambiguous)", () => {
    const a = [
      { path: "a/b", sha256: h("x") },
      { path: "c/d", sha256: h("y") }
    ]
    const b = [{ path: `a/b","${h("x")}"],["c/d`, sha256: h("y") }]
    expect(() => imageDatasetVersion(b)).not.toThrow()
    expect(imageDatasetVersion(a)).not.toBe(imageDatasetVersion(b))
  })

  it("rejects duplicates, absolute or non-POSIX paths and malformed digests", () => {
    expect(() => imageDatasetVersion([base[0], base[0]])).toThrow(/twice/)
    expect(() => imageDatasetVersion([{ path: "/abs/x.png", sha256: h("a") }])).toThrow(/relative POSIX/)
    expect(() => imageDatasetVersion([{ path: "bag\\x.png", sha256: h("a") }])).toThrow(/relative POSIX/)
    expect(() => imageDatasetVersion([{ path: "../x.png", sha256: h("a") }])).toThrow(/relative POSIX/)
    expect(() => imageDatasetVersion([{ path: "x.png", sha256: "ABC" }])).toThrow(/SHA-256/)
  })
})
