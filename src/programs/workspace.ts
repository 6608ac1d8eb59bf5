/** The workspace layout on disk (DESIGN.md), in one place so writers and readers agree. */
export const datasetKeys = (dataset: string, version: string) => {
  const base = `datasets/${dataset}/${version}`
  return {
    base,
    data: `${base}/data.csv`,
    manifest: `${base}/manifest.json`,
    split: (splitId: string) => `${base}/splits/${splitId}`,
    preprocessed: (splitId: string, transformHash: string) =>
      `${base}/preprocessed/${splitId}-${transformHash.slice(0, 16)}`
  }
}

export const artifactKeys = (runId: string) => ({
  dir: `artifacts/${runId}/model`,
  model: `artifacts/${runId}/model/model.json`,
  metadata: `artifacts/${runId}/model/metadata.json`,
  transform: `artifacts/${runId}/model/transform.json`,
  featureMap: `artifacts/${runId}/model/feature_map.json`,
  profile: `artifacts/${runId}/model/reference_profile.json`,
  imageReference: `artifacts/${runId}/model/reference_images.dgt`
})

export const reportKeys = (runId: string) => ({
  dir: `reports/${runId}`,
  file: (name: string) => `reports/${runId}/${name}`,
  latest: (name: string) => `reports/latest/${name}`
})

export const driftKeys = (model: string) => ({
  dir: `drift/${model}`,
  report: (stamp: string, ext: "json" | "html") => `drift/${model}/${stamp}.${ext}`,
  history: `drift/${model}/history.jsonl`
})

export const stagingKey = (dataset: string) => `datasets/${dataset}/staged.json`
