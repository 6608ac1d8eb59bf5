import { Console, Context, Effect, Layer, Option } from "effect"
import * as path from "node:path"
import type { ApproveMode } from "../layers/live.js"
import type { LoadedConfig } from "../programs/loadConfig.js"
import { pendingRollbackSentence } from "../domain/rollbackText.js"
import { Registry } from "../services/Registry.js"
import { driftgate } from "./root.js"

/** The workspace folder a command works in, resolved once. */
export class Workspace extends Context.Tag("driftgate/cli/Workspace")<Workspace, string>() {}

/** The pipeline config named by --config, loaded (and validated) once, before any layer opens the store. */
export class Pipeline extends Context.Tag("driftgate/cli/Pipeline")<Pipeline, LoadedConfig>() {}

/** --workspace (or DRIFTGATE_WORKSPACE), then the config's `workspace:`, then ./.driftgate. */
export const resolveWorkspace = (flag: Option.Option<string>, fromConfig?: string): string =>
  path.resolve(Option.getOrUndefined(flag) ?? fromConfig ?? ".driftgate")

/**
 * Reports interrupted rollbacks once, on stderr, for every command that opens the store (DESIGN:
 * finishable after a power cut): built with the layer, so no command can forget it.
 */
const warnPending = (config: string | undefined) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const registry = yield* Registry
      for (const i of yield* registry.pendingRollbacks())
        yield* Console.error(`driftgate: warning: ${pendingRollbackSentence(i, config)}`)
    })
  )

/** Where the registry and tracker live: --store (or DRIFTGATE_STORE_URL), then the config's store:, else store.db. */
export interface StoreChoice {
  readonly store?: string | undefined
  readonly artifacts?: string | undefined
}

const liveModule = () => import("../layers/live.js")

const forWorkspace = (
  workspace: string,
  approve: ApproveMode | undefined,
  existing = false,
  config?: string,
  store: StoreChoice = {}
) =>
  Layer.merge(
    Layer.provideMerge(
      warnPending(config),
      // loaded when a command runs, not when the CLI starts: `--help` and the usage errors never
      // evaluate the learners, drift, the stores or apache-arrow (bench/startup.ts)
      Layer.unwrapEffect(
        Effect.map(Effect.promise(liveModule), (live) =>
          live.liveLayer({ workspace, approve, existing, store: store.store, artifacts: store.artifacts })
        )
      )
    ),
    Layer.succeed(Workspace, workspace)
  )

/** The live services for the workspace the shared options name: for commands without --config. */
export const workspaceLayer = (approve?: ApproveMode) =>
  Layer.unwrapEffect(
    Effect.map(driftgate, (root) =>
      forWorkspace(resolveWorkspace(root.workspace), approve, false, undefined, {
        store: Option.getOrUndefined(root.store)
      })
    )
  )

/** For read-only commands: a missing store is StoreMissing (exit 1), never created. */
export const existingWorkspaceLayer = () =>
  Layer.unwrapEffect(
    Effect.map(driftgate, (root) =>
      forWorkspace(resolveWorkspace(root.workspace), undefined, true, undefined, {
        store: Option.getOrUndefined(root.store)
      })
    )
  )

/** Loads --config first (a bad config is exit 64 before the store is touched), then the live services. */
export const pipelineLayer = (file: string, approve?: ApproveMode, existing = false) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const root = yield* driftgate
      const { loadConfig } = yield* Effect.promise(() => import("../programs/loadConfig.js"))
      const loaded = yield* loadConfig(file)
      return Layer.merge(
        forWorkspace(resolveWorkspace(root.workspace, loaded.config.workspace), approve, existing, file, {
          store: Option.getOrUndefined(root.store) ?? loaded.config.store,
          artifacts: loaded.config.artifacts
        }),
        Layer.succeed(Pipeline, loaded)
      )
    })
  )

/** Prints `value` as JSON under --json, else the human text. */
export const print = (value: unknown, human: () => string) =>
  Effect.flatMap(driftgate, (root) => Console.log(root.json ? JSON.stringify(value, null, 2) : human()))
