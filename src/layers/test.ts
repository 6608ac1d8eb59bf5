import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Layer } from "effect"
import type { Decision } from "../services/Approver.js"
import { ApproverScripted } from "./approver/ApproverScripted.js"
import { PromptScripted } from "./prompt/PromptScripted.js"
import { StorageMemory } from "./storage/StorageMemory.js"
import { RegistryMemory } from "./registry/RegistryMemory.js"
import { TrackerMemory } from "./tracker/TrackerMemory.js"
import { TrainerAll } from "./trainer/TrainerAll.js"
import { DriftDetectorTabular } from "./drift/DriftDetectorTabular.js"
import { ImageCodecSharp } from "./imageCodec/ImageCodecSharp.js"

/**
 * The in-memory bundle for tests and embedding: nothing touches the workspace on disk; raw data
 * is still read from the real file system (data/raw is real data).
 */
export const testLayer = (
  options: {
    readonly answers?: ReadonlyArray<string>
    readonly interactive?: boolean
    readonly decisions?: ReadonlyArray<Decision>
  } = {}
) =>
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
