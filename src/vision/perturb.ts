/**
 * Seeded image perturbations for the model_analysis robustness stage: each takes an NHWC batch in
 * [0, 1] and returns a new batch of the same shape, clamped to [0, 1]; the input is never mutated.
 * Severity runs 1 (mild) to 5 (harsh), in the spirit of ImageNet-C, with the physical parameter of
 * each level in SEVERITY_PARAMETERS. JPEG re-encoding needs a codec and lives in layers/imageCodec/jpeg.ts.
 */
import type { Rng } from "../domain/random.js"
import { boxBlur, gaussianBlur } from "./filters.js"
import { centreCropResize, flipHorizontal, rotate } from "./geometry.js"
import { type ImageShape, checkShape, clamp01InPlace, imageSize } from "./tensor.js"

/** Add `delta` to every value (a uniform exposure change). */
export const adjustBrightness = (images: Float32Array, shape: ImageShape, delta: number): Float32Array => {
  checkShape(images, shape)
  const out = new Float32Array(images.length)
  for (let i = 0; i < images.length; i++) out[i] = images[i] + delta
  return clamp01InPlace(out)
}

/** Scale each image about its own mean value by `factor` (< 1 flattens, > 1 stretches). */
export const adjustContrast = (images: Float32Array, shape: ImageShape, factor: number): Float32Array => {
  checkShape(images, shape)
  const n = shape[0]
  const size = imageSize(shape)
  const out = new Float32Array(images.length)
  for (let img = 0; img < n; img++) {
    const base = img * size
    let s = 0
    for (let i = 0; i < size; i++) s += images[base + i]
    const mean = s / size
    for (let i = 0; i < size; i++) out[base + i] = mean + factor * (images[base + i] - mean)
  }
  return clamp01InPlace(out)
}

/** Add independent N(0, sigma^2) noise to every value, drawn from `rng` in data order. */
export const addGaussianNoise = (images: Float32Array, shape: ImageShape, sigma: number, rng: Rng): Float32Array => {
  checkShape(images, shape)
  const out = new Float32Array(images.length)
  for (let i = 0; i < images.length; i++) out[i] = images[i] + sigma * rng.normal()
  return clamp01InPlace(out)
}

export type PerturbationFamily =
  | "brightness"
  | "contrast"
  | "gaussian_noise"
  | "box_blur"
  | "gaussian_blur"
  | "rotation"
  | "centre_crop"
  | "horizontal_flip"

export type Severity = 1 | 2 | 3 | 4 | 5

/**
 * The parameter of each severity level: brightness delta, contrast factor, noise sigma, box radius
 * (px, fractional), Gaussian sigma (px), rotation angle (degrees, sign drawn per image), centre
 * crop's kept fraction of each side. Tuned for 28 x 28 images: level 5 is hard but recognisable.
 */
export const SEVERITY_PARAMETERS: Readonly<
  Record<Exclude<PerturbationFamily, "horizontal_flip">, readonly [number, number, number, number, number]>
> = {
  brightness: [0.1, 0.2, 0.3, 0.4, 0.5],
  contrast: [0.75, 0.6, 0.45, 0.3, 0.15],
  gaussian_noise: [0.04, 0.08, 0.12, 0.18, 0.26],
  box_blur: [0.5, 1, 1.5, 2, 3],
  gaussian_blur: [0.5, 0.75, 1, 1.5, 2],
  rotation: [5, 10, 15, 22.5, 30],
  centre_crop: [0.9, 0.8, 0.7, 0.6, 0.5]
}

export interface Perturbation {
  /** e.g. "gaussian_noise_s3"; "horizontal_flip" has no levels. */
  readonly name: string
  readonly family: PerturbationFamily
  readonly severity: Severity
  /** Pure given `rng`'s state: the same seed gives the same output. Deterministic families ignore it. */
  readonly apply: (images: Float32Array, shape: ImageShape, rng: Rng) => Float32Array
}

const applyFamily =
  (family: PerturbationFamily, p: number) =>
  (images: Float32Array, shape: ImageShape, rng: Rng): Float32Array => {
    switch (family) {
      case "brightness":
        return adjustBrightness(images, shape, p)
      case "contrast":
        return adjustContrast(images, shape, p)
      case "gaussian_noise":
        return addGaussianNoise(images, shape, p, rng)
      case "box_blur":
        return clamp01InPlace(boxBlur(images, shape, p))
      case "gaussian_blur":
        return clamp01InPlace(gaussianBlur(images, shape, p))
      case "rotation": {
        checkShape(images, shape)
        // one sign per image so a model cannot profit from a bias to one side
        const angles = new Float64Array(shape[0])
        for (let i = 0; i < angles.length; i++) angles[i] = rng.next() < 0.5 ? -p : p
        return clamp01InPlace(rotate(images, shape, angles))
      }
      case "centre_crop":
        return clamp01InPlace(centreCropResize(images, shape, p))
      case "horizontal_flip":
        return flipHorizontal(images, shape)
    }
  }

/** The perturbation of `family` at `severity` (horizontal_flip has a single level: severity is ignored). */
export const perturbation = (family: PerturbationFamily, severity: Severity): Perturbation => {
  if (family === "horizontal_flip") return { name: family, family, severity: 1, apply: applyFamily(family, 0) }
  const p = SEVERITY_PARAMETERS[family][severity - 1]
  return { name: `${family}_s${severity}`, family, severity, apply: applyFamily(family, p) }
}

const LEVELLED: ReadonlyArray<Exclude<PerturbationFamily, "horizontal_flip">> = [
  "brightness",
  "contrast",
  "gaussian_noise",
  "box_blur",
  "gaussian_blur",
  "rotation",
  "centre_crop"
]

/** Every levelled family at each of `severities`, then the flip; names are unique. */
export const perturbationsAt = (severities: ReadonlyArray<Severity>): ReadonlyArray<Perturbation> => [
  ...LEVELLED.flatMap((family) => severities.map((s) => perturbation(family, s))),
  perturbation("horizontal_flip", 1)
]

/**
 * The robustness stage's fixed list: 7 families at severities 1, 3, 5 plus the flip (22 entries).
 * Give each its own stream (rng(deriveSeed(seed, index))) so adding one does not shift the others.
 */
export const DEFAULT_PERTURBATIONS: ReadonlyArray<Perturbation> = perturbationsAt([1, 3, 5])
