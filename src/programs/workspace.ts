import * as path from "node:path"
import type { PipelineConfig } from "../domain/config.js"

/** The workspace layout on disk (DESIGN.md), in one place so writers and readers agree. */

/** Where a config's raw dataset lives: <config dir>/<data_root>/<dataset>/ (outside the workspace, never written). */
export const datasetDir = (config: PipelineConfig, configDir: string) =>
  path.resolve(configDir, config.data_root, config.dataset)

export type SplitPart = "train" | "val" | "test"

export const datasetKeys = (dataset: string, version: string) => {
  const base = `datasets/${dataset}/${version}`
  return {
    base,
    /**
     * The validated snapshot as Arrow IPC (Feather v2): every column of the CSV, typed as dataset.yaml
     * says. The same bytes read under another contract (a dtype or a missing-value token changed) are
     * another table, so the snapshot is named by the contract's hash as well as the bytes' (`contract`).
     */
    data: (contract: string) => `${base}/data-${contract.slice(0, 16)}.arrow`,
    manifest: `${base}/manifest.json`,
    /** A snapshot copy of one image of an image dataset (relative path inside images/). */
    image: (relative: string) => `${base}/images/${relative}`,
    split: (splitId: string) => `${base}/splits/${splitId}`,
    preprocessed: (splitId: string, transformHash: string) =>
      `${base}/preprocessed/${splitId}-${transformHash.slice(0, 16)}`
  }
}

/** The files of one split folder (datasets/<name>/<version>/splits/<split-id>/). */
export const splitKeys = (splitKey: string) => ({
  /** A tabular split part: its row indices over the snapshot (Arrow IPC, one Uint32 column `row`). */
  rows: (part: SplitPart) => `${splitKey}/${part}.arrow`,
  /** A tabular split part as CSV (workspaces written before the Arrow snapshot). */
  csv: (part: SplitPart) => `${splitKey}/${part}.csv`,
  /** An image split part: relative paths and labels (JSON). */
  list: (part: SplitPart) => `${splitKey}/${part}.json`,
  spec: `${splitKey}/split.json`
})

/** The files of one preprocessed folder (…/preprocessed/<split-id>-<transform hash>/). */
export const preprocessedKeys = (key: string) => ({
  /** A tabular part: encoded features (Float64 columns) and the target as read (Arrow IPC). */
  table: (part: SplitPart) => `${key}/${part}.arrow`,
  tensor: (part: SplitPart) => `${key}/${part}.dgt`,
  sidecar: (part: SplitPart) => `${key}/${part}.json`,
  featureMap: `${key}/feature_map.json`,
  transform: `${key}/transform.json`,
  /** The drift reference profile of the raw train features (made here, where the train rows are already taken). */
  profile: (seed: number) => `${key}/reference_profile-${seed}.json`
})

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
  history: `drift/${model}/history.jsonl`,
  /** A prepared image batch (tensor file) and its sidecar. */
  batch: (stamp: string, ext: "dgt" | "json") => `drift/${model}/batches/${stamp}.${ext}`
})

/** The active drift-training staging of a dataset (present only while one is staged). */
export const stagingKey = (dataset: string) => `datasets/${dataset}/staged.json`

/** Everything one drift-training staging wrote, and the dataset's staging history. */
export const stagingKeys = (dataset: string, id: string) => {
  const dir = `datasets/${dataset}/staging/${id}`
  return {
    dir,
    record: `${dir}/staging.json`,
    merged: `${dir}/merged.csv`,
    holdout: `${dir}/holdout.csv`,
    image: (relative: string) => `${dir}/images/${relative}`
  }
}

export const stagingHistoryKey = (dataset: string) => `datasets/${dataset}/staging/history.jsonl`

/** Where the prediction service logs the rows it served for a model (one JSONL file a day). */
export const servingLogDir = (model: string) => `serving/predictions/${model}/`
