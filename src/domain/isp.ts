import { Schema } from "effect"

/**
 * The ISP section of a raw (`image_format: raw_dng`) pipeline config: each stage's parameters,
 * the bounds ISP sensitivity sweeps, and the drift scenarios. Pure schema; the stages live in
 * vision/isp.
 */

const opt = <A, I>(s: Schema.Schema<A, I>, value: () => A) => Schema.optionalWith(s, { default: value })
const ex = <A, I>(s: Schema.Schema<A, I>) => Schema.optionalWith(s, { exact: true })
const Positive = Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(16))

export const DemosaicMethod = Schema.Literal("bilinear", "malvar")
export type DemosaicMethod = typeof DemosaicMethod.Type

export const ColourMode = Schema.Literal("auto", "color_matrix_1", "color_matrix_2", "forward", "identity")
export type ColourMode = typeof ColourMode.Type

/** Absolute camera-space gains [r, g, b] replacing the file's as-shot ones (normalised to G = 1). */
const Gains = Schema.Tuple(Positive, Positive, Positive)
/** Multipliers on the red and blue gains after that: > 1 red warms, > 1 blue cools. */
const ChannelScale = Schema.Number.pipe(Schema.between(0.25, 4))
const DenoiseMethod = Schema.Literal("none", "gaussian", "median")
/** Gaussian sigma in pixels (taps to radius round(3 sigma), like SciPy's gaussian_filter). */
const Sigma = Schema.Number.pipe(Schema.between(0.1, 5))
/** Median window (odd). */
const MedianSize = Schema.Literal(3, 5, 7)
/** Unsharp-mask amount: luma + amount · (luma − gaussian(luma, sigma)); 0 = off. */
const Amount = Schema.Number.pipe(Schema.between(0, 5))
const Curve = Schema.Literal("power", "srgb")
/** x^(1/value) for the power curve. */
const GammaValue = Schema.Number.pipe(Schema.between(1, 4))

export const WhiteBalanceParams = Schema.Struct({
  gains: Schema.optional(Gains),
  red_scale: opt(ChannelScale, () => 1),
  blue_scale: opt(ChannelScale, () => 1)
})

export const DenoiseParams = Schema.Struct({
  method: opt(DenoiseMethod, () => "none" as const),
  sigma: opt(Sigma, () => 1),
  size: opt(MedianSize, () => 3 as const)
})

export const SharpenParams = Schema.Struct({
  amount: opt(Amount, () => 0),
  sigma: opt(Sigma, () => 1)
})

export const GammaParams = Schema.Struct({
  curve: opt(Curve, () => "power" as const),
  value: opt(GammaValue, () => 2.2)
})

const ispParamFields = {
  demosaic: opt(DemosaicMethod, () => "bilinear" as const),
  white_balance: opt(WhiteBalanceParams, (): typeof WhiteBalanceParams.Type => ({ red_scale: 1, blue_scale: 1 })),
  colour: opt(ColourMode, () => "auto" as const),
  denoise: opt(DenoiseParams, () => ({ method: "none" as const, sigma: 1, size: 3 as const })),
  sharpen: opt(SharpenParams, () => ({ amount: 0, sigma: 1 })),
  gamma: opt(GammaParams, () => ({ curve: "power" as const, value: 2.2 }))
}

/** The parameters of the seven stages (black level takes its values from the file). */
export const IspParams = Schema.Struct(ispParamFields)
export type IspParams = typeof IspParams.Type

export const defaultIspParams = (): IspParams => Schema.decodeSync(IspParams)({})

const Range = Schema.Tuple(Schema.Number, Schema.Number).pipe(
  Schema.filter(([lo, hi]) => lo <= hi || `a range is [low, high] with low <= high (got [${lo}, ${hi}])`)
)

/**
 * The ISP parameters sensitivity analysis sweeps, with their declared bounds: each numeric one is
 * rendered at `steps` evenly spaced values across its range, the demosaic methods each.
 */
export const IspBounds = Schema.Struct({
  wb_red_scale: opt(Range, () => [0.7, 1.3] as const),
  wb_blue_scale: opt(Range, () => [0.7, 1.3] as const),
  gamma: opt(Range, () => [1.8, 2.6] as const),
  denoise_sigma: opt(Range, () => [0, 2] as const),
  sharpen_amount: opt(Range, () => [0, 2] as const),
  demosaic: opt(Schema.Array(DemosaicMethod).pipe(Schema.minItems(1)), () => ["bilinear", "malvar"] as const),
  steps: opt(Schema.Int.pipe(Schema.between(2, 11)), () => 3)
})
export type IspBounds = typeof IspBounds.Type

export const IspSensitivityParameter = Schema.Literal(
  "wb_red_scale",
  "wb_blue_scale",
  "gamma",
  "denoise_sigma",
  "sharpen_amount",
  "demosaic"
)
export type IspSensitivityParameter = typeof IspSensitivityParameter.Type

/** Partial stage parameters a scenario changes, merged over the pipeline's own. */
export const IspOverrides = Schema.Struct({
  demosaic: ex(DemosaicMethod),
  white_balance: ex(
    Schema.Struct({
      gains: ex(Gains),
      red_scale: ex(ChannelScale),
      blue_scale: ex(ChannelScale)
    })
  ),
  colour: ex(ColourMode),
  denoise: ex(
    Schema.Struct({
      method: ex(DenoiseMethod),
      sigma: ex(Sigma),
      size: ex(MedianSize)
    })
  ),
  sharpen: ex(Schema.Struct({ amount: ex(Amount), sigma: ex(Sigma) })),
  gamma: ex(Schema.Struct({ curve: ex(Curve), value: ex(GammaValue) }))
})
export type IspOverrides = typeof IspOverrides.Type

/**
 * An ISP drift scenario: how a camera or processing change would render the reference raws.
 * `raw_noise` adds Brooks et al.'s heteroscedastic sensor noise (variance shot · x + read², x the
 * normalised linear value) before the ISP, seeded.
 */
export const IspScenario = Schema.Struct({
  name: Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9_]{0,63}$/)),
  description: Schema.String,
  isp: opt(IspOverrides, (): IspOverrides => ({})),
  raw_noise: Schema.optional(
    Schema.Struct({
      shot: Schema.Number.pipe(Schema.between(0, 0.1)),
      read: Schema.Number.pipe(Schema.between(0, 0.2))
    })
  )
})
export type IspScenario = typeof IspScenario.Type

/** The predecessor's scenarios: warm/cool white balance, high noise, dark/bright gamma, heavy sharpening. */
export const DEFAULT_ISP_SCENARIOS: ReadonlyArray<IspScenario> = [
  {
    name: "warm_wb",
    description: "warm white balance",
    isp: { white_balance: { red_scale: 1.25, blue_scale: 0.8 } }
  },
  { name: "cool_wb", description: "cool white balance", isp: { white_balance: { red_scale: 0.8, blue_scale: 1.25 } } },
  { name: "high_noise", description: "high sensor noise", isp: {}, raw_noise: { shot: 0.01, read: 0.02 } },
  { name: "dark_gamma", description: "dark gamma", isp: { gamma: { value: 1.6 } } },
  { name: "bright_gamma", description: "bright gamma", isp: { gamma: { value: 3.0 } } },
  { name: "heavy_sharpening", description: "heavy sharpening", isp: { sharpen: { amount: 3, sigma: 1 } } }
]

export const IspConfig = Schema.Struct({
  ...ispParamFields,
  bounds: opt(IspBounds, () => Schema.decodeSync(IspBounds)({})),
  /** Extra scenarios, added to the defaults (a scenario with a default's name replaces it). */
  scenarios: opt(Schema.Array(IspScenario), (): ReadonlyArray<IspScenario> => []),
  /**
   * Drift evidence: a scenario explains the batch when what its best-fitting multiple leaves of the
   * observed signature is within `max_distance` and within `max_relative` × the observed signature's length.
   */
  scenario_match: opt(
    Schema.Struct({
      max_distance: opt(Schema.Number.pipe(Schema.greaterThan(0)), () => 0.1),
      max_relative: opt(Schema.Number.pipe(Schema.between(0.01, 1)), () => 0.5)
    }),
    () => ({ max_distance: 0.1, max_relative: 0.5 })
  ),
  /** Accuracy drops for the per-parameter severity of ISP sensitivity. */
  severity: opt(
    Schema.Struct({
      high: Schema.Number.pipe(Schema.between(0, 1)),
      medium: Schema.Number.pipe(Schema.between(0, 1))
    }),
    () => ({ high: 0.15, medium: 0.05 })
  )
})
export type IspConfig = typeof IspConfig.Type

/** The stage parameters of an ISP config (what every render uses). */
export const ispParamsOf = (c: IspConfig): IspParams => ({
  demosaic: c.demosaic,
  white_balance: c.white_balance,
  colour: c.colour,
  denoise: c.denoise,
  sharpen: c.sharpen,
  gamma: c.gamma
})

/** Overrides merged over base parameters, stage by stage. */
export const withOverrides = (base: IspParams, o: IspOverrides): IspParams => ({
  demosaic: o.demosaic ?? base.demosaic,
  white_balance: { ...base.white_balance, ...o.white_balance },
  colour: o.colour ?? base.colour,
  denoise: { ...base.denoise, ...o.denoise },
  sharpen: { ...base.sharpen, ...o.sharpen },
  gamma: { ...base.gamma, ...o.gamma }
})

/** The default scenarios with the config's own added (same name: the config's wins). */
export const scenariosOf = (c: IspConfig): ReadonlyArray<IspScenario> => {
  const own = new Map(c.scenarios.map((s) => [s.name, s]))
  return [...DEFAULT_ISP_SCENARIOS.filter((s) => !own.has(s.name)), ...c.scenarios]
}
