import { NodeFileSystem } from "@effect/platform-node"
import { Layer } from "effect"
import type { Decision } from "../services/Approver.js"
import { ApproverScripted } from "./approver/ApproverScripted.js"
import { PromptScripted } from "./memory/PromptScripted.js"
import { StorageMemory } from "./memory/StorageMemory.js"
import { RegistryMemory } from "./memory/RegistryMemory.js"
import { TrackerMemory } from "./memory/TrackerMemory.js"
import { TrainerAll } from "./trainer/TrainerAll.js"
import { DriftDetectorTabular } from "./drift/DriftDetectorTabular.js"
import { ImageCodecSharp } from "./images/ImageCodecSharp.js"

/**
 * The in-memory bundle for tests and embedding: nothing touches the workspace on disk; raw data
 * is still read from the real file system (data/raw is real data).
 */
export const testLayer = (options: { readonly answers?: ReadonlyArray<string>; readonly interactive?: boolean; readonly decisions?: ReadonlyArray<Decision> } = {}) =>
  Layer.mergeAll(
    StorageMemory,
    TrackerMemory,
    RegistryMemory,
    TrainerAll,
    DriftDetectorTabular,
    ImageCodecSharp,
    PromptScripted(options.answers ?? [], options.interactive ?? false),
    ApproverScripted(options.decisions ?? []),
    NodeFileSystem.layer
  )
