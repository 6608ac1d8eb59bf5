// The small-CNN trainer on tfjs, as plain functions over typed arrays: the network (build, predict,
// embed for image-drift MMD: cnnNetwork.ts), training and fine-tuning (cnnTrain.ts), and save/load to
// bytes (cnnArtifact.ts). This module is what the Trainer layer loads lazily, and the one entry point.
// Choose the backend first with selectTfBackend() (backend.ts); training records which ran.
export { type CnnArtifact, type CnnMeta, CnnMetaSchema, loadCnn, saveCnn } from "./cnnArtifact.js"
export {
  buildCnn,
  type CnnArch,
  type CnnInputShape,
  cnnLogits,
  type CnnModel,
  type ConvSpec,
  disposeCnn,
  embed,
  evaluateCnn,
  predictProba
} from "./cnnNetwork.js"
export {
  type EpochStats,
  fineTune,
  type FineTuneOptions,
  trainCnn,
  type TrainCnnOptions,
  type TrainCnnResult
} from "./cnnTrain.js"
export { availableCores, closeCnnPools, defaultThreads, embedParallel, predictProbaParallel } from "./cnnPool.js"
