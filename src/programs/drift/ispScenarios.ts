/**
 * ISP drift-scenario evidence for raw pipelines: each scenario (a camera or processing change: warm or
 * cool white balance, high sensor noise, dark or bright gamma, heavy sharpening, or the config's own)
 * renders the reference raws, and its image-drift signature against the pipeline's own rendering is
 * compared with the observed batch's signature against the reference images. The closest scenario
 * within the configured distance explains the drift; otherwise no scenario does.
 *
 * A signature is the per-channel pixel Wasserstein distance signed by the direction of the channel's
 * mean shift (so warm and cool white balance point opposite ways), followed by the mean-over-channels
 * distance at each level of the 3-level Gaussian pyramid (fine detail versus global change).
 * A scenario gives a direction, not a size (how much warmer is unknown), so its distance is what is
 * left of the observed signature after the best non-negative multiple of the scenario's is taken
 * away; that multiple is reported as the strength. A batch of other scenes than the reference's
 * differs a little in every channel anyway, so a scenario explains a batch only when the rest is
 * small against the observed signature (`max_relative`).
 */
import { Effect } from "effect"
import type { ImageProperties } from "../../domain/dataset.js"
import { FeatureMapSchema } from "../../domain/featureMap.js"
import { type IspConfig, type IspParams, ispParamsOf, scenariosOf, withOverrides } from "../../domain/isp.js"
import { deriveSeed, rng } from "../../domain/random.js"
import { channelWasserstein, pyramidDiagnostics } from "../../stats/pyramid.js"
import type { ImageBatch } from "../../services/ImageCodec.js"
import { Storage } from "../../services/Storage.js"
import { decodeDng } from "../../vision/dng/dng.js"
import type { RawImage } from "../../vision/raw.js"
import { renderBatch } from "../rawImages.js"
import { artifactKeys, datasetKeys } from "../workspace.js"
import { readWorkspaceJson } from "../workspaceJson.js"
import { Schema } from "effect"

/** Signed per-channel W1 (channels), then the pyramid's per-level distance (3). */
export const driftSignature = (from: ImageBatch, to: ImageBatch): ReadonlyArray<number> => {
  const w = channelWasserstein(from, to)
  const c = from.shape[3]
  const mean = (b: ImageBatch, ch: number) => {
    let s = 0
    for (let i = ch; i < b.data.length; i += c) s += b.data[i]!
    return s / (b.data.length / c)
  }
  const signed = Array.from(w, (v, ch) => (mean(to, ch) >= mean(from, ch) ? v : -v))
  const levels = pyramidDiagnostics(from, to, { levels: 3 }).levels.map((l) => l.distance)
  return [...signed, ...levels]
}

const euclidean = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - (b[i] ?? 0)) ** 2
  return Math.sqrt(s)
}

export interface ScenarioMatch {
  readonly name: string
  readonly description: string
  readonly distance: number
  /** The multiple of the scenario's signature that best fits the observed one (1 = as rendered). */
  readonly strength: number
  readonly signature: ReadonlyArray<number>
}

export interface ScenarioEvidence {
  readonly observed: ReadonlyArray<number>
  /** Every scenario, closest first. */
  readonly ranked: ReadonlyArray<ScenarioMatch>
  /** The closest scenario when it explains the batch, else null. */
  readonly closest: ScenarioMatch | null
  /** 1 − closest distance / second-closest distance (how clearly the closest one stands out). */
  readonly confidence: number
  readonly sentence: string
}

/**
 * Ranks scenarios by distance to the observed signature; the closest explains the batch when within
 * `max_distance` and within `max_relative` × the observed signature's own length (so a tiny drift is
 * not "explained" by any scenario merely because everything is near zero).
 */
export const rankScenarios = (
  observed: ReadonlyArray<number>,
  scenarios: ReadonlyArray<Omit<ScenarioMatch, "distance" | "strength">>,
  match: IspConfig["scenario_match"]
): ScenarioEvidence => {
  const ranked = scenarios
    .map((s) => {
      let dot = 0,
        norm2 = 0
      for (let i = 0; i < s.signature.length; i++) {
        dot += observed[i]! * s.signature[i]!
        norm2 += s.signature[i]! ** 2
      }
      const strength = norm2 > 0 ? Math.max(0, dot / norm2) : 0
      return {
        ...s,
        strength,
        distance: euclidean(
          observed,
          s.signature.map((v) => strength * v)
        )
      }
    })
    .sort((a, b) => a.distance - b.distance || (a.name < b.name ? -1 : 1))
  const best = ranked[0]
  const second = ranked[1]
  const confidence =
    best === undefined ? 0 : second === undefined || second.distance === 0 ? 1 : 1 - best.distance / second.distance
  const norm = euclidean(observed, [])
  const explains =
    best !== undefined && best.distance <= match.max_distance && best.distance <= match.max_relative * norm
  const sentence =
    explains && best !== undefined
      ? `closest: ${best.description} (distance ${best.distance.toFixed(3)}, confidence ${confidence.toFixed(2)}, strength ${best.strength.toFixed(2)}× the scenario)`
      : `no scenario explains this${best !== undefined ? ` (nearest: ${best.description}, distance ${best.distance.toFixed(3)})` : ""}`
  return { observed, ranked, closest: explains ? best! : null, confidence, sentence }
}

/** Up to `max` raws of the model's training dataset snapshot, evenly spaced over its sorted files. */
export const referenceRaws = (runId: string, max: number) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const fm = yield* readWorkspaceJson(artifactKeys(runId).featureMap, FeatureMapSchema, "feature map")
    const keys = datasetKeys(fm.dataset, fm.dataset_version)
    const manifest = yield* readWorkspaceJson(
      keys.manifest,
      Schema.Struct({ files: Schema.Array(Schema.Struct({ path: Schema.String })) }),
      "dataset snapshot manifest"
    )
    const files = manifest.files
    const n = Math.min(max, files.length)
    const raws: Array<RawImage> = []
    for (let i = 0; i < n; i++) {
      const f = files[Math.floor((i * files.length) / n)]!
      const d = decodeDng(yield* storage.read(keys.image(f.path)))
      if (d.ok) raws.push(d.image)
    }
    return raws
  })

/** Renders every scenario from the reference raws and ranks them against the observed signature. */
export const scenarioEvidence = (args: {
  readonly raws: ReadonlyArray<RawImage>
  readonly props: Pick<ImageProperties, "target_size" | "channels">
  readonly isp: IspConfig
  readonly observed: ReadonlyArray<number>
  readonly seed: number
}) =>
  Effect.gen(function* () {
    const base: IspParams = ispParamsOf(args.isp)
    const clean = yield* renderBatch(args.raws, args.props, base)
    const signatures: Array<Omit<ScenarioMatch, "distance" | "strength">> = []
    for (const [i, s] of scenariosOf(args.isp).entries()) {
      const noise =
        s.raw_noise === undefined ? undefined : { ...s.raw_noise, rng: rng(deriveSeed(args.seed, 7919 + i)) }
      const rendered = yield* renderBatch(args.raws, args.props, withOverrides(base, s.isp), noise)
      signatures.push({ name: s.name, description: s.description, signature: driftSignature(clean, rendered) })
    }
    return rankScenarios(args.observed, signatures, args.isp.scenario_match)
  })
