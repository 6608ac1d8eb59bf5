import { NodeFileSystem } from "@effect/platform-node"
import { Layer } from "effect"
import * as path from "node:path"
import { ApproverHeadlessCancel } from "./approver/ApproverHeadlessCancel.js"
import { ApproverPolicy } from "./approver/ApproverPolicy.js"
import { ApproverTerminal } from "./approver/ApproverTerminal.js"
import { StorageFs } from "./fs/StorageFs.js"
import { SqliteDatabaseLive } from "./sqlite/SqliteDatabase.js"
import { RegistrySqlite } from "./sqlite/RegistrySqlite.js"
import { TrackerSqlite } from "./sqlite/TrackerSqlite.js"
import { TrainerAll } from "./trainer/TrainerAll.js"
import { DriftDetectorTabular } from "./drift/DriftDetectorTabular.js"
import { ImageCodecSharp } from "./images/ImageCodecSharp.js"
import { PromptTerminal } from "./terminal/PromptTerminal.js"

export type ApproveMode = "interactive" | "auto" | "cancel"

/** interactive on a TTY, cancel otherwise (the headless default); auto only when asked for. */
export const approverLayer = (mode: ApproveMode | undefined, interactive: boolean) => {
  const m = mode ?? (interactive ? "interactive" : "cancel")
  return m === "auto" ? ApproverPolicy() : m === "interactive" && interactive ? ApproverTerminal : ApproverHeadlessCancel
}

/**
 * The production bundle for one workspace: SQLite store (WAL) at <workspace>/store.db, files under
 * <workspace>, the terminal prompt, and the approver chosen by --approve. Built once per command.
 */
export const liveLayer = (options: { readonly workspace: string; readonly approve?: ApproveMode | undefined }) => {
  const ws = path.resolve(options.workspace)
  const base = Layer.mergeAll(
    SqliteDatabaseLive(path.join(ws, "store.db")),
    StorageFs(ws),
    PromptTerminal,
    NodeFileSystem.layer
  )
  const services = Layer.mergeAll(
    TrackerSqlite,
    RegistrySqlite,
    TrainerAll,
    DriftDetectorTabular,
    ImageCodecSharp,
    approverLayer(options.approve, Boolean(process.stdin.isTTY))
  )
  return services.pipe(Layer.provideMerge(base))
}
