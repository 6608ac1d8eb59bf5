import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"

// tests/fixtures/random/sfc32_reference.py: the generator written in Python from its description
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/random/sfc32_reference.json", import.meta.url), "utf8")
) as Record<string, { readonly first: number[]; readonly after_10008: number[] }>

describe("rng (sfc32 seeded through splitmix32)", () => {
  for (const [seed, draws] of Object.entries(reference)) {
    it(`seed ${seed}: the reference's draws, at the start and after 10,008`, () => {
      const r = rng(Number(seed))
      expect(Array.from({ length: 8 }, () => r.next())).toEqual(draws.first)
      for (let i = 0; i < 10_000; i++) r.next()
      expect(Array.from({ length: 4 }, () => r.next())).toEqual(draws.after_10008)
    })
  }

  it("int(n) is floor(next() * n)", () => {
    const a = rng(7)
    const b = rng(7)
    for (let i = 1; i < 1000; i++) expect(a.int(i)).toBe(Math.floor(b.next() * i))
  })
})
