import { Args, Command } from "@effect/cli"
import { Effect } from "effect"
import { RegistryError, StoreError } from "../../domain/errors.js"
import { Registry } from "../../services/Registry.js"
import { print, existingWorkspaceLayer } from "../context.js"
import { registryListText, registryRow, registryShowText, registryVerifyText } from "../render/registry.js"

const registryList = Command.make("list", {}, () =>
  Effect.gen(function* () {
    const registry = yield* Registry
    const models = yield* registry.listModels()
    const rows = yield* Effect.forEach(models, (m) =>
      Effect.map(registry.listVersions(m.name), (versions) => registryRow(m.name, versions))
    )
    yield* print(rows, () => registryListText(rows))
  })
).pipe(
  Command.withDescription("registered models with their Production version"),
  Command.provide(existingWorkspaceLayer())
)

const registryShow = Command.make("show", { name: Args.text({ name: "NAME" }) }, (o) =>
  Effect.gen(function* () {
    const registry = yield* Registry
    const versions = yield* registry.listVersions(o.name)
    if (versions.length === 0)
      return yield* Effect.fail(new RegistryError({ model: o.name, message: `model ${o.name} is not registered` }))
    const audit = yield* registry.audit(o.name)
    yield* print({ name: o.name, versions, audit }, () => registryShowText(o.name, versions, audit))
  })
).pipe(
  Command.withDescription("versions, stages, aliases and the audit trail of one model"),
  Command.provide(existingWorkspaceLayer())
)

/** `registry verify` and `store verify`: the same checks and report; `subject` names what failed. */
export const verifyHandler = (subject: "registry" | "store") =>
  Effect.gen(function* () {
    const { verifyStore } = yield* Effect.promise(() => import("../../programs/verifyStore.js"))
    const result = yield* verifyStore()
    yield* print(result, () => registryVerifyText(result))
    if (!result.ok)
      return yield* Effect.fail(
        new StoreError({ op: "verify", message: `the ${subject} failed verification: ${result.problems[0]}` })
      )
  })

const registryVerify = Command.make("verify", {}, () => verifyHandler("registry")).pipe(
  Command.withDescription(
    "verify the store: SQLite integrity, the audit chain and its anchor, one Production per model, every artifact digest"
  ),
  Command.provide(existingWorkspaceLayer())
)

export const registrySubcommands = [registryList, registryShow, registryVerify] as const

export const registryCommand = Command.make("registry").pipe(
  Command.withDescription("the model registry"),
  Command.withSubcommands(registrySubcommands)
)
