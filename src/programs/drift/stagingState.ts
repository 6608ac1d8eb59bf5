import { Effect } from "effect"
import { StagingRecordSchema } from "../../domain/staging.js"
import { Storage } from "../../services/Storage.js"
import { stagingKey } from "../workspace.js"
import { readWorkspaceJson } from "../workspaceJson.js"

export {
  type ImageStaging,
  isImageStaging,
  type StagedImage,
  type Staging,
  type StagingRecord
} from "../../domain/staging.js"

/** The drift-training staging active for a dataset (its staged.json), or null when none is. */
export const activeStaging = Effect.fn("drift.activeStaging")(function* (dataset: string) {
  const storage = yield* Storage
  const key = stagingKey(dataset)
  if (!(yield* storage.exists(key))) return null
  return yield* readWorkspaceJson(key, StagingRecordSchema, "drift-training staging record")
})
