import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import fc from "fast-check"
import * as path from "node:path"
import { decodeImages, scanImageFolder } from "../../../src/layers/imageCodec/imageFolder.js"
import {
  decodeTensorSidecar,
  encodeTensorSidecar,
  readTensorFile,
  tensorSidecar,
  writeTensorFile
} from "../../../src/layers/imageCodec/tensorFile.js"

const images = path.resolve(__dirname, "../../../data/raw/fashion_mnist/images")

describe("DGT1 tensor files", () => {
  it.effect("round-trip a decoded split with its sidecar", () =>
    Effect.gen(function* () {
      const scan = yield* scanImageFolder(images)
      const picked = scan.files.filter((_, i) => i % 60 === 0)
      const t = yield* decodeImages(picked, [28, 28], 1)
      const bytes = writeTensorFile(t.data, t.shape)
      expect(bytes.length).toBe(8 + 16 + 4 * t.data.length)
      expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe("DGT1")
      expect(Array.from(bytes.subarray(4, 8))).toEqual([1, 4, 0, 0])
      expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(20)
      const back = Either.getOrThrow(readTensorFile(bytes))
      expect(back.shape).toEqual([20, 28, 28, 1])
      expect(back.data).toEqual(t.data)

      const sidecar = tensorSidecar(
        bytes,
        t.shape,
        scan.classes,
        picked.map((f) => f.label ?? ""),
        picked.map((f) => f.path)
      )
      const text = encodeTensorSidecar(sidecar)
      expect(Either.getOrThrow(decodeTensorSidecar(text, bytes))).toEqual(sidecar)
      // a sidecar paired with another tensor is caught
      const other = writeTensorFile(
        t.data.map((v) => 1 - v),
        t.shape
      )
      expect(Either.isLeft(decodeTensorSidecar(text, other))).toBe(true)
    })
  )

  it("round-trips any float32 tensor, bit for bit (NaN, -0 and infinities included)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.float32Array({
              minLength: shape.reduce((a, b) => a * b, 1),
              maxLength: shape.reduce((a, b) => a * b, 1)
            })
          )
        ),
        ([shape, data]) => {
          const back = Either.getOrThrow(readTensorFile(writeTensorFile(data, shape)))
          expect(back.shape).toEqual(shape)
          expect(new Uint8Array(back.data.buffer)).toEqual(
            new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          )
        }
      )
    )
  })

  it("reads from an unaligned view and rejects malformed bytes as values", () => {
    const bytes = writeTensorFile(Float32Array.from([1.5, -2, 3]), [3])
    const padded = new Uint8Array(bytes.length + 1)
    padded.set(bytes, 1)
    expect(Array.from(Either.getOrThrow(readTensorFile(padded.subarray(1))).data)).toEqual([1.5, -2, 3])
    const bad = (b: Uint8Array) => Either.isLeft(readTensorFile(b))
    expect(bad(bytes.subarray(0, bytes.length - 1))).toBe(true)
    expect(bad(Uint8Array.from([...bytes, 0]))).toBe(true)
    expect(bad(Uint8Array.from(bytes).fill(0x58, 0, 1))).toBe(true)
    const dtype = Uint8Array.from(bytes)
    dtype[4] = 2
    expect(bad(dtype)).toBe(true)
    const rank = Uint8Array.from(bytes)
    rank[5] = 0
    expect(bad(rank)).toBe(true)
    expect(bad(new Uint8Array(3))).toBe(true)
    expect(() => writeTensorFile(new Float32Array(5), [2, 3])).toThrow(/needs 6/)
  })

  it("rejects sidecars that are not JSON, miss fields or disagree with themselves", () => {
    const bytes = writeTensorFile(new Float32Array(2), [2, 1])
    const good = tensorSidecar(bytes, [2, 1], ["a", "b"], ["a", "b"], ["a/1.png", "b/1.png"])
    expect(Either.isRight(decodeTensorSidecar(encodeTensorSidecar(good), bytes))).toBe(true)
    expect(Either.isLeft(decodeTensorSidecar("{"))).toBe(true)
    expect(Either.isLeft(decodeTensorSidecar(JSON.stringify({ ...good, format: "x" })))).toBe(true)
    expect(Either.isLeft(decodeTensorSidecar(JSON.stringify({ ...good, labels: ["a"] })))).toBe(true)
    expect(Either.isLeft(decodeTensorSidecar(JSON.stringify({ ...good, labels: ["a", "c"] })))).toBe(true)
    expect(Either.isLeft(decodeTensorSidecar(JSON.stringify({ ...good, shape: [2, 2] }), bytes))).toBe(true)
  })
})
