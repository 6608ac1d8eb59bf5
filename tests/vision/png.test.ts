import { describe, expect, it } from "vitest"
import { encodePng, imageBytes, pngDataUri } from "../../src/vision/png.js"

// The reference decoder is libvips/libpng through sharp: what it reads back must be the bytes we wrote.
const decode = async (png: Uint8Array) => {
  const sharp = (await import("sharp")).default
  const meta = await sharp(Buffer.from(png)).metadata()
  // sharp outputs grey as sRGB unless asked for its b-w colour space.
  const image = meta.channels === 1 ? sharp(Buffer.from(png)).toColourspace("b-w") : sharp(Buffer.from(png))
  const { data } = await image.raw().toBuffer({ resolveWithObject: true })
  return { data: new Uint8Array(data), width: meta.width, height: meta.height, channels: meta.channels }
}

const seeded = (n: number, seed: number) => {
  let s = seed >>> 0
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s >>> 24
  })
}

describe("PNG encoder (decoded back by sharp)", () => {
  for (const [w, h, c] of [
    [28, 28, 1],
    [5, 3, 3],
    [7, 9, 4],
    // 120 × 201 RGB scanlines are over 65,535 bytes: several stored deflate blocks.
    [201, 120, 3]
  ] as const) {
    it(`${w}×${h}×${c}`, async () => {
      const pixels = seeded(w * h * c, w * 31 + h)
      const back = await decode(encodePng(pixels, w, h, c))
      expect([back.width, back.height, back.channels]).toEqual([w, h, c])
      expect(Buffer.from(back.data).equals(Buffer.from(pixels))).toBe(true)
    })
  }

  it("an NHWC tensor image in [0, 1]: rounded and clamped to bytes, as a data: URI", async () => {
    const shape = [2, 2, 3, 1] as const
    const data = Float32Array.from([0, 0.5, 1, 1.2, -0.1, 0.25, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    expect(Array.from(imageBytes(data, shape, 0))).toEqual([0, 128, 255, 255, 0, 64])
    const uri = pngDataUri(data, shape, 1)
    expect(uri.startsWith("data:image/png;base64,")).toBe(true)
    const back = await decode(Buffer.from(uri.slice("data:image/png;base64,".length), "base64"))
    expect(Array.from(back.data)).toEqual([26, 51, 77, 102, 128, 153])
  })

  it("refuses what it cannot encode", () => {
    expect(() => encodePng(new Uint8Array(8), 2, 2, 2)).toThrow(/channels/)
    expect(() => encodePng(new Uint8Array(5), 2, 2, 1)).toThrow(/bytes/)
  })
})
