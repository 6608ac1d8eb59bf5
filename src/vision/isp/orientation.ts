/** TIFF/EXIF Orientation applied to interleaved RGB, so the ISP's output is upright. */

/** Returns the upright image (a new array; orientation 1 or unknown returns the input). */
export const orient = (
  rgb: Float32Array,
  w: number,
  h: number,
  orientation: number
): { readonly data: Float32Array; readonly width: number; readonly height: number } => {
  if (!(orientation >= 2 && orientation <= 8)) return { data: rgb, width: w, height: h }
  const swap = orientation >= 5
  const ow = swap ? h : w
  const oh = swap ? w : h
  const out = new Float32Array(rgb.length)
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      // Source (sx, sy) of output (x, y): the inverse of each orientation's transform.
      let sx: number, sy: number
      switch (orientation) {
        case 2:
          sx = w - 1 - x
          sy = y
          break
        case 3:
          sx = w - 1 - x
          sy = h - 1 - y
          break
        case 4:
          sx = x
          sy = h - 1 - y
          break
        case 5:
          sx = y
          sy = x
          break
        case 6:
          sx = y
          sy = h - 1 - x
          break
        case 7:
          sx = w - 1 - y
          sy = h - 1 - x
          break
        default:
          sx = w - 1 - y
          sy = x
      }
      const s = (sy * w + sx) * 3
      const o = (y * ow + x) * 3
      out[o] = rgb[s]!
      out[o + 1] = rgb[s + 1]!
      out[o + 2] = rgb[s + 2]!
    }
  }
  return { data: out, width: ow, height: oh }
}
