/**
 * A minimal PNG encoder for small images (report thumbnails): 8-bit grey, RGB or RGBA, filter 0,
 * zlib "stored" (uncompressed) deflate blocks. Pure: no zlib binding, no I/O. A 64×64 RGB thumbnail
 * is about 12 KB, which is what a self-contained HTML report can afford for a handful of them.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

const crc32 = (bytes: Uint8Array, start: number, end: number): number => {
  let c = 0xffffffff
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const adler32 = (bytes: Uint8Array): number => {
  let a = 1,
    b = 0
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]!) % 65521
    b = (b + a) % 65521
  }
  return ((b << 16) | a) >>> 0
}

const COLOR_TYPE: Record<number, number> = { 1: 0, 3: 2, 4: 6 }

/** PNG bytes of `pixels` (row-major, `channels` bytes per pixel: 1 grey, 3 RGB, 4 RGBA). */
export const encodePng = (pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array => {
  const colorType = COLOR_TYPE[channels]
  if (colorType === undefined) throw new Error(`PNG: ${channels} channels; expected 1, 3 or 4`)
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new Error(`PNG: size ${width}×${height}`)
  if (pixels.length !== width * height * channels)
    throw new Error(`PNG: ${pixels.length} bytes for ${width}×${height}×${channels}`)
  // Raw scanlines, each prefixed by its filter type (0: none).
  const stride = width * channels
  const raw = new Uint8Array(height * (stride + 1))
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1)
  // zlib stream: header, stored blocks of at most 65535 bytes, Adler-32.
  const blocks = Math.max(1, Math.ceil(raw.length / 65535))
  const zlib = new Uint8Array(2 + raw.length + blocks * 5 + 4)
  zlib[0] = 0x78
  zlib[1] = 0x01
  let o = 2
  for (let b = 0; b < blocks; b++) {
    const from = b * 65535
    const len = Math.min(65535, raw.length - from)
    zlib[o++] = b === blocks - 1 ? 1 : 0
    zlib[o++] = len & 0xff
    zlib[o++] = len >>> 8
    zlib[o++] = ~len & 0xff
    zlib[o++] = (~len >>> 8) & 0xff
    zlib.set(raw.subarray(from, from + len), o)
    o += len
  }
  const adler = adler32(raw)
  zlib[o++] = adler >>> 24
  zlib[o++] = (adler >>> 16) & 0xff
  zlib[o++] = (adler >>> 8) & 0xff
  zlib[o] = adler & 0xff

  const chunks: Array<[string, Uint8Array]> = [
    ["IHDR", ihdr(width, height, colorType)],
    ["IDAT", zlib],
    ["IEND", new Uint8Array(0)]
  ]
  const size = 8 + chunks.reduce((s, [, d]) => s + 12 + d.length, 0)
  const out = new Uint8Array(size)
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0)
  const view = new DataView(out.buffer)
  let p = 8
  for (const [type, data] of chunks) {
    view.setUint32(p, data.length)
    for (let i = 0; i < 4; i++) out[p + 4 + i] = type.charCodeAt(i)
    out.set(data, p + 8)
    view.setUint32(p + 8 + data.length, crc32(out, p + 4, p + 8 + data.length))
    p += 12 + data.length
  }
  return out
}

const ihdr = (width: number, height: number, colorType: number): Uint8Array => {
  const d = new Uint8Array(13)
  const v = new DataView(d.buffer)
  v.setUint32(0, width)
  v.setUint32(4, height)
  d[8] = 8 // bit depth
  d[9] = colorType
  // compression 0, filter 0, interlace 0
  return d
}

/** Image `index` of an NHWC batch with values in [0, 1], as 8-bit pixels (rounded, clamped). */
export const imageBytes = (
  data: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  index: number
): Uint8Array => {
  const [n, h, w, c] = shape
  if (!(index >= 0 && index < n)) throw new Error(`image ${index} of ${n}`)
  const size = h * w * c
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) {
    const v = Math.round(data[index * size + i]! * 255)
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v
  }
  return out
}

/** A data: URI of image `index` of an NHWC batch in [0, 1], for an <img> in a self-contained page. */
export const pngDataUri = (
  data: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  index: number
): string => {
  const [, h, w, c] = shape
  const png = encodePng(imageBytes(data, shape, index), w, h, c)
  let binary = ""
  for (let i = 0; i < png.length; i++) binary += String.fromCharCode(png[i]!)
  return `data:image/png;base64,${btoa(binary)}`
}
