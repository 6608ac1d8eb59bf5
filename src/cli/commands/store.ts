import { Command, Options } from "@effect/cli"
import { Effect } from "effect"
import { StoreError } from "../../domain/errors.js"
import { existingWorkspaceLayer, print, resolveWorkspace } from "../context.js"
import { driftgate } from "../root.js"
import { verifyHandler } from "./registry.js"

const storeMigrate = Command.make(
  "migrate",
  {
    to: Options.text("to").pipe(
      Options.withDescription("the PostgreSQL store to copy into: postgres://user@host:port/db")
    ),
    append: Options.boolean("append").pipe(
      Options.withDescription("merge into a store that already holds runs or registry records")
    )
  },
  (o) =>
    Effect.gen(function* () {
      const { connectTimeoutConfig, isPostgresUrl } = yield* Effect.promise(
        () => import("../../layers/postgres/PostgresDatabase.js")
      )
      const { migrateStore } = yield* Effect.promise(() => import("../../layers/postgres/migrateStore.js"))
      const root = yield* driftgate
      if (!isPostgresUrl(o.to))
        return yield* Effect.fail(
          new StoreError({ op: "migrate", message: "--to must be a postgres:// or postgresql:// URL" })
        )
      const timeout = yield* connectTimeoutConfig
      const result = yield* Effect.tryPromise({
        try: () =>
          migrateStore({
            workspace: resolveWorkspace(root.workspace),
            to: o.to,
            append: o.append,
            connectTimeoutMs: timeout
          }),
        catch: (e) => new StoreError({ op: "migrate", message: e instanceof Error ? e.message : String(e), cause: e })
      })
      yield* print(result, () =>
        [
          `${result.resumed ? "resumed: " : ""}copied ${result.from} into ${result.to}`,
          ...result.tables.map(
            (t) => `  ${t.table}: ${t.copied} copied${t.present > 0 ? `, ${t.present} already there` : ""}`
          ),
          `  files (artifacts, reports, drift): ${result.files.copied} copied${result.files.present > 0 ? `, ${result.files.present} already there` : ""}`,
          `  audit chain: ${result.chain.target.records} records, head ${result.chain.target.head?.slice(0, 12) ?? "none"}…, verifies on both sides`
        ].join("\n")
      )
    })
).pipe(
  Command.withDescription(
    "copy this workspace's SQLite store (runs, registry, audit log) and its artifacts, reports and drift history into a PostgreSQL store; resumable"
  )
)

/** The same checks as `registry verify`, on whichever store --store (or the workspace) names. */
const storeVerify = Command.make("verify", {}, () => verifyHandler("store")).pipe(
  Command.withDescription(
    "verify the store (SQLite or --store postgres://…): the audit chain, one Production per model, every artifact digest"
  ),
  Command.provide(existingWorkspaceLayer())
)

export const storeSubcommands = [storeMigrate, storeVerify] as const

export const storeCommand = Command.make("store").pipe(
  Command.withDescription("the store itself: move it to PostgreSQL, verify it"),
  Command.withSubcommands(storeSubcommands)
)
