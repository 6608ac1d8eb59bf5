/** A minimal independent PNG decoder (8-bit greyscale, non-interlaced) to check sharp's output against. */
import { inflateSync } from "node:zlib"

export const decodeGreyPng = (bytes: Uint8Array): { width: number; height: number; pixels: Uint8Array } => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let off = 8
  let width = 0,
    height = 0
  const idat: Uint8Array[] = []
  while (off < bytes.length) {
    const len = view.getUint32(off)
    const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8))
    const body = bytes.subarray(off + 8, off + 8 + len)
    if (type === "IHDR") {
      width = view.getUint32(off + 8)
      height = view.getUint32(off + 12)
      if (body[8] !== 8 || body[9] !== 0 || body[12] !== 0) throw new Error("only 8-bit grey non-interlaced PNGs")
    } else if (type === "IDAT") idat.push(body)
    else if (type === "IEND") break
    off += 12 + len
  }
  const raw = inflateSync(Buffer.concat(idat))
  const pixels = new Uint8Array(width * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)]
    for (let x = 0; x < width; x++) {
      const v = raw[y * (width + 1) + 1 + x]
      const a = x > 0 ? pixels[y * width + x - 1] : 0
      const b = y > 0 ? pixels[(y - 1) * width + x] : 0
      const c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1] : 0
      const p = a + b - c
      const pa = Math.abs(p - a),
        pb = Math.abs(p - b),
        pc = Math.abs(p - c)
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      const pred = [0, a, b, (a + b) >> 1, paeth][filter]
      pixels[y * width + x] = (v + pred) & 0xff
    }
  }
  return { width, height, pixels }
}
