/**
 * Image batches as one Float32Array in NHWC order (image, row, column, channel), values in [0, 1].
 * NHWC is what sharp's raw output and tfjs's conv layers both use, so no transpose is ever needed.
 */

/** [images, height, width, channels]. */
export type ImageShape = readonly [n: number, h: number, w: number, c: number]

export interface ImageTensor {
  readonly data: Float32Array
  readonly shape: ImageShape
}

/** The number of values one image holds (h * w * c). */
export const imageSize = (shape: ImageShape): number => shape[1] * shape[2] * shape[3]

/** Throws on a shape that is not four positive integers or does not match the data's length (a caller's bug). */
export const checkShape = (data: ArrayLike<number>, shape: ImageShape): void => {
  if (shape.length !== 4 || !shape.every((s) => Number.isInteger(s) && s >= 0) || shape.slice(1).some((s) => s === 0)) {
    throw new Error(`An image shape must be [n, h, w, c] with h, w, c > 0; got [${shape.join(", ")}].`)
  }
  const want = shape[0] * imageSize(shape)
  if (data.length !== want) {
    throw new Error(`The image data holds ${data.length} values but the shape [${shape.join(", ")}] needs ${want}.`)
  }
}

/** Clamp every value to [0, 1] in place (perturbations keep images in the decoder's range). */
export const clamp01InPlace = (data: Float32Array): Float32Array => {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v
  }
  return data
}
