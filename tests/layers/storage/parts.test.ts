import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeStorageFs } from "../../../src/layers/storage/StorageFs.js"
import { makeStorageMemory } from "../../../src/layers/storage/StorageMemory.js"

// Arrow files are written as their writer's pieces (no join into one buffer): both layers must store
// exactly the pieces' bytes in order, for write and writeOnce, and read them back whole.
const parts = [Uint8Array.of(1, 2, 3), new Uint8Array(0), Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff)]
const whole = Uint8Array.from([...parts[0]!, ...parts[2]!])

describe.each([
  ["StorageFs", () => makeStorageFs(fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-parts-")))],
  ["StorageMemory", () => makeStorageMemory()]
])("%s writes pieces", (_name, make) => {
  it("write and writeOnce store the pieces in order; read gives them back", () => {
    const s = make()
    Effect.runSync(s.write("a/file.arrow", parts))
    expect(Array.from(Effect.runSync(s.read("a/file.arrow")))).toEqual(Array.from(whole))
    expect(Effect.runSync(s.writeOnce("b/file.arrow", parts))).toBe(true)
    expect(Effect.runSync(s.writeOnce("b/file.arrow", [Uint8Array.of(9)]))).toBe(false)
    expect(Array.from(Effect.runSync(s.read("b/file.arrow")))).toEqual(Array.from(whole))
    // a small file read back is exactly its bytes (a view never shows a neighbour's bytes)
    Effect.runSync(s.write("c.txt", "hé"))
    expect(Array.from(Effect.runSync(s.read("c.txt")))).toEqual(Array.from(new TextEncoder().encode("hé")))
  })
})

describe("StorageFs: a write that fails part-way", () => {
  it("leaves neither the file nor its temporary behind (write and writeOnce)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-partial-"))
    const s = makeStorageFs(dir)
    // a piece the file system cannot take (standing in for a full disk mid-file): writeSync throws
    const broken = [Uint8Array.of(1, 2, 3), { byteLength: 5 } as unknown as Uint8Array]
    for (const op of [s.write, s.writeOnce]) {
      const r = Effect.runSync(Effect.either(op("a/file.arrow", broken)))
      expect(r._tag).toBe("Left")
      expect(fs.readdirSync(path.join(dir, "a"))).toEqual([])
    }
  })
})
