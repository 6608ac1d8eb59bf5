import { beforeAll, describe, expect, it } from "vitest"
import { selectTfBackend } from "../../../../src/layers/trainer/tfjs/backend.js"
import {
  buildCnn,
  type CnnArtifact,
  disposeCnn,
  loadCnn,
  predictProba,
  saveCnn
} from "../../../../src/layers/trainer/tfjs/cnn.js"

// loadCnn decodes the artifact it is given (model.json through a Schema, the metadata too): a
// corrupt file is one sentence saying which part cannot be read and where, not a TypeError.

let artifact: CnnArtifact
const images = { data: Float32Array.from({ length: 2 * 6 * 6 }, (_, i) => (i % 7) / 7), shape: [2, 6, 6, 1] as const }
let expected: Float64Array

beforeAll(async () => {
  await selectTfBackend("cpu")
  const m = buildCnn({ conv: [{ filters: 2, kernel: 3 }], pool: "max", dense: [4], dropout: 0 }, [6, 6, 1], 3, 7)
  expected = predictProba(m, images)
  artifact = await saveCnn(m, { seed: 7, learningRate: 1e-3 })
  disposeCnn(m)
}, 60_000)

const withModelJson = (edit: (doc: Record<string, unknown>) => void): CnnArtifact => {
  const doc = JSON.parse(artifact.modelJson) as Record<string, unknown>
  edit(doc)
  return { ...artifact, modelJson: JSON.stringify(doc) }
}

describe("loadCnn decodes what it loads", () => {
  it("round-trips a saved artifact with identical probabilities", async () => {
    const m = await loadCnn(artifact)
    expect(predictProba(m, images)).toEqual(expected)
    expect([m.nClasses, ...m.inputShape]).toEqual([3, 6, 6, 1])
    disposeCnn(m)
  })

  it("names model.json when it is not JSON", async () => {
    await expect(loadCnn({ ...artifact, modelJson: artifact.modelJson.slice(0, 40) })).rejects.toThrow(
      /^The CNN's tfjs model\.json cannot be read: /
    )
  })

  it("names the field of model.json that is wrong", async () => {
    const bad = withModelJson((doc) => {
      const manifest = doc.weightsManifest as Array<{ weights: Array<{ dtype: string }> }>
      manifest[0]!.weights[1]!.dtype = "float16"
    })
    await expect(loadCnn(bad)).rejects.toThrow(
      /^The CNN's tfjs model\.json cannot be read at weightsManifest\.0\.weights\.1\.dtype: /
    )
    await expect(loadCnn(withModelJson((doc) => delete doc.modelTopology))).rejects.toThrow(
      /^The CNN's tfjs model\.json cannot be read at modelTopology: /
    )
  })

  it("names the metadata field that is wrong, and still refuses another format outright", async () => {
    const meta = { ...artifact.meta, inputShape: [6, 6] } as unknown as CnnArtifact["meta"]
    await expect(loadCnn({ ...artifact, meta })).rejects.toThrow(/^The CNN's metadata cannot be read at inputShape/)
    const other = { ...artifact.meta, format: "keras" } as unknown as CnnArtifact["meta"]
    await expect(loadCnn({ ...artifact, meta: other })).rejects.toThrow(
      "Not a driftgate CNN artifact (format keras, version 1)."
    )
  })
})
