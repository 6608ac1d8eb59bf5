import { Console, Context, Effect, Layer, Option } from "effect"
import * as path from "node:path"
import { type ApproveMode, liveLayer } from "../layers/live.js"
import { type LoadedConfig, loadConfig } from "../programs/loadConfig.js"
import { describeIntent } from "../programs/rollback.js"
import { Registry } from "../services/Registry.js"
import { driftgate } from "./root.js"

/** The workspace folder a command works in, resolved once. */
export class Workspace extends Context.Tag("driftgate/cli/Workspace")<Workspace, string>() {}

/** The pipeline config named by --config, loaded (and validated) once, before any layer opens the store. */
export class Pipeline extends Context.Tag("driftgate/cli/Pipeline")<Pipeline, LoadedConfig>() {}

/** --workspace (or DRIFTGATE_WORKSPACE), then the config's `workspace:`, then ./.driftgate. */
export const resolveWorkspace = (flag: Option.Option<string>, fromConfig?: string): string =>
  path.resolve(Option.getOrUndefined(flag) ?? fromConfig ?? ".driftgate")

const forWorkspace = (workspace: string, approve: ApproveMode | undefined, existing = false) =>
  Layer.merge(liveLayer({ workspace, approve, existing }), Layer.succeed(Workspace, workspace))

/** The live services for the workspace the shared options name: for commands without --config. */
export const workspaceLayer = (approve?: ApproveMode) =>
  Layer.unwrapEffect(Effect.map(driftgate, (root) => forWorkspace(resolveWorkspace(root.workspace), approve)))

/** For read-only commands: a missing store is StoreMissing (exit 1), never created. */
export const existingWorkspaceLayer = () =>
  Layer.unwrapEffect(Effect.map(driftgate, (root) => forWorkspace(resolveWorkspace(root.workspace), undefined, true)))

/** Loads --config first (a bad config is exit 64 before the store is touched), then the live services. */
export const pipelineLayer = (file: string, approve?: ApproveMode, existing = false) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const root = yield* driftgate
      const loaded = yield* loadConfig(file)
      return Layer.merge(
        forWorkspace(resolveWorkspace(root.workspace, loaded.config.workspace), approve, existing),
        Layer.succeed(Pipeline, loaded)
      )
    })
  )

/** Prints `value` as JSON under --json, else the human text. */
export const print = (value: unknown, human: () => string) =>
  Effect.flatMap(driftgate, (root) => Console.log(root.json ? JSON.stringify(value, null, 2) : human()))

/** Reports interrupted rollbacks on every registry-touching command (DESIGN: finishable after a power cut). */
export const warnPending = Effect.gen(function* () {
  const registry = yield* Registry
  const pending = yield* registry.pendingRollbacks()
  for (const i of pending) {
    yield* Console.error(
      `driftgate: warning: ${describeIntent(i)}; finish it with \`driftgate rollback --config <config> --resume\` or drop it with \`--abandon --reason TEXT\``
    )
  }
})
