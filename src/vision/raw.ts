/**
 * A camera raw image as the DNG reader (vision/dng) hands it to the ISP (vision/isp): the sensor's
 * values before any processing, and the metadata the ISP's stages need. Pure data, no I/O.
 */

/** CFA colour of one site: 0 red, 1 green, 2 blue (DNG's CFAPlaneColor default order). */
export type CfaColor = 0 | 1 | 2

export interface RawMetadata {
  /** Pixels of the image after ActiveArea and DefaultCrop are applied (what `data` holds). */
  readonly width: number
  readonly height: number
  /** "cfa": one sample per site in the pattern below; "linear": LinearRaw, already 3 samples per pixel. */
  readonly kind: "cfa" | "linear"
  /** CFA repeat pattern, row-major, `cfaRows × cfaCols` entries (usually 2×2, e.g. RGGB = [0, 1, 1, 2]); empty for linear. */
  readonly cfaPattern: ReadonlyArray<CfaColor>
  readonly cfaRows: number
  readonly cfaCols: number
  /**
   * Black level per site of the BlackLevelRepeatDim pattern (row-major, `blackRows × blackCols`
   * entries, per sample for linear raws), with BlackLevelDeltaH/V already folded into `blackDeltaH`/`blackDeltaV`.
   */
  readonly blackLevel: ReadonlyArray<number>
  readonly blackRows: number
  readonly blackCols: number
  /** Per column (length width) and per row (length height) black offsets; empty when absent. */
  readonly blackDeltaH: ReadonlyArray<number>
  readonly blackDeltaV: ReadonlyArray<number>
  /** WhiteLevel per sample (one entry for CFA). */
  readonly whiteLevel: ReadonlyArray<number>
  /** AsShotNeutral (camera-space neutral, 3 values), or undefined when the file has none. */
  readonly asShotNeutral?: ReadonlyArray<number>
  /** ColorMatrix1/2 (XYZ → camera, 3×3 row-major) with their CalibrationIlluminant EXIF codes. */
  readonly colorMatrix1?: ReadonlyArray<number>
  readonly colorMatrix2?: ReadonlyArray<number>
  readonly calibrationIlluminant1?: number
  readonly calibrationIlluminant2?: number
  /** ForwardMatrix1/2 (white-balanced camera → XYZ D50, 3×3 row-major). */
  readonly forwardMatrix1?: ReadonlyArray<number>
  readonly forwardMatrix2?: ReadonlyArray<number>
  /** EXIF/TIFF Orientation (1 = normal). */
  readonly orientation: number
  /** Bits per sample as stored (8–16). */
  readonly bitsPerSample: number
  /** Camera make/model when present (UniqueCameraModel or Make + Model). */
  readonly camera?: string
}

export interface RawImage {
  readonly meta: RawMetadata
  /**
   * The sensor values as stored (not black-subtracted, not normalised), cropped to the active area and
   * default crop: `height × width` for CFA, `height × width × 3` (interleaved) for LinearRaw.
   * The CFA pattern's origin is the top-left of this crop.
   */
  readonly data: Uint16Array
}
