import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as path from "node:path"
import { decodeImages, scanImageFolder } from "../../../src/layers/imageCodec/imageFolder.js"
import { JPEG_PERTURBATIONS, jpegReencode } from "../../../src/layers/imageCodec/jpeg.js"

const images = path.resolve(__dirname, "../../../data/raw/fashion_mnist/images")
const meanAbs = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length

describe("JPEG re-encoding", () => {
  it.effect("is deterministic, keeps the shape and loses more at lower quality", () =>
    Effect.gen(function* () {
      const scan = yield* scanImageFolder(images)
      const t = yield* decodeImages(
        scan.files.filter((_, i) => i % 100 === 0),
        [28, 28],
        1
      )
      expect(JPEG_PERTURBATIONS.map((p) => p.name)).toEqual(["jpeg_s1", "jpeg_s3", "jpeg_s5"])
      const outs = []
      for (const p of JPEG_PERTURBATIONS) {
        const a = yield* p.apply(t.data, t.shape)
        expect(yield* p.apply(t.data, t.shape)).toEqual(a)
        expect(a.length).toBe(t.data.length)
        expect(a.every((v) => v >= 0 && v <= 1)).toBe(true)
        outs.push(meanAbs(a, t.data))
      }
      expect(outs[0]).toBeGreaterThan(0)
      expect(outs[1]).toBeGreaterThan(outs[0])
      expect(outs[2]).toBeGreaterThan(outs[1])
      // colour images go through 4:2:0 too
      const rgb = yield* decodeImages(scan.files.slice(0, 2), [28, 28], 3)
      expect((yield* jpegReencode(rgb.data, rgb.shape, 50)).length).toBe(rgb.data.length)
    })
  )

  it.effect("unsupported channel counts and qualities are typed failures", () =>
    Effect.gen(function* () {
      const two = yield* Effect.exit(jpegReencode(new Float32Array(8), [1, 2, 2, 2], 50))
      const q = yield* Effect.exit(jpegReencode(new Float32Array(4), [1, 2, 2, 1], 0))
      const shape = yield* Effect.exit(jpegReencode(new Float32Array(3), [1, 2, 2, 1], 50))
      for (const e of [two, q, shape]) expect(Exit.isFailure(e) && e.cause._tag === "Fail").toBe(true)
    })
  )
})
