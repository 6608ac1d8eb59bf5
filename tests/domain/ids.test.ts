import { describe, expect, it } from "vitest"
import { UUID_V7, uuidv7 } from "../../src/domain/ids.js"

describe("uuidv7", () => {
  it("carries the milliseconds and is a valid UUIDv7", () => {
    const id = uuidv7(1_764_000_000_123)
    expect(id).toMatch(UUID_V7)
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(1_764_000_000_123)
  })

  it("keeps creation order within one millisecond (a registry lists same-millisecond records by id)", () => {
    // a found case: two rollback intents begun in the same millisecond were listed in a random order
    const ids = Array.from({ length: 2000 }, () => uuidv7(1_764_000_000_000))
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true)
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true)
    // a later millisecond sorts after, an earlier one before
    expect(uuidv7(1_764_000_000_001) > ids[ids.length - 1]!).toBe(true)
    expect(uuidv7(1_763_999_999_999) < ids[0]!).toBe(true)
  })

  it("with given random bits is a pure function of them", () => {
    const bits = Uint8Array.from({ length: 10 }, (_, i) => 17 * i + 3)
    const id = uuidv7(1_764_000_000_000, bits)
    expect(uuidv7(1_764_000_000_000, bits)).toBe(id)
    // the bits as given after the milliseconds, but for the version (7) and variant (10) bits
    const tail = Uint8Array.from(bits)
    tail[0] = (tail[0]! & 0x0f) | 0x70
    tail[2] = (tail[2]! & 0x3f) | 0x80
    expect(id.replace(/-/g, "").slice(12)).toBe(Buffer.from(tail).toString("hex"))
  })
})
