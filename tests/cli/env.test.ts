import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Option, Ref } from "effect"
import * as path from "node:path"
import { actor, codeRevision } from "../../src/cli/env.js"
import { resolveWorkspace } from "../../src/cli/context.js"
import { globalOptions, hoistSharedOptions } from "../../src/cli/root.js"
import { storeReadOnlyConfig } from "../../src/layers/sqlite/SqliteDatabase.js"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** Parses `args` with the root's shared options, as the CLI does, and returns what a subcommand would read. */
const parseShared = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function* () {
    const seen = yield* Ref.make<
      Option.Option<{ workspace: Option.Option<string>; store: Option.Option<string>; json: boolean; verbose: boolean }>
    >(Option.none())
    const root = Command.make("driftgate", globalOptions, (o) => Ref.set(seen, Option.some(o)))
    yield* Command.run(root, { name: "driftgate", version: "test" })(["node", "driftgate", ...args])
    return Option.getOrThrow(yield* Ref.get(seen))
  }).pipe(withEnv(env), Effect.provide(NodeContext.layer))

describe("the workspace: --workspace, then DRIFTGATE_WORKSPACE (through Config), then the config, then ./.driftgate", () => {
  it.effect("the flag wins over the environment", () =>
    Effect.gen(function* () {
      const o = yield* parseShared(["--workspace", "/tmp/flag"], { DRIFTGATE_WORKSPACE: "/tmp/env" })
      expect(o.workspace).toEqual(Option.some("/tmp/flag"))
    })
  )
  it.effect("DRIFTGATE_WORKSPACE fills in a missing flag", () =>
    Effect.gen(function* () {
      const o = yield* parseShared([], { DRIFTGATE_WORKSPACE: "/tmp/env" })
      expect(o.workspace).toEqual(Option.some("/tmp/env"))
      expect(resolveWorkspace(o.workspace, "/tmp/from-config")).toBe("/tmp/env")
    })
  )
  it.effect(
    "an empty DRIFTGATE_WORKSPACE counts as unset: the config's workspace, else ./.driftgate, never the current directory",
    () =>
      Effect.gen(function* () {
        const o = yield* parseShared([], { DRIFTGATE_WORKSPACE: "" })
        expect(o.workspace).toEqual(Option.none())
        expect(resolveWorkspace(o.workspace, "/tmp/from-config")).toBe("/tmp/from-config")
        expect(resolveWorkspace(o.workspace)).toBe(path.resolve(".driftgate"))
        expect(resolveWorkspace(o.workspace)).not.toBe(process.cwd())
      })
  )
  it.effect("--json and --verbose are read once, by the root", () =>
    Effect.gen(function* () {
      const o = yield* parseShared(["--json", "--verbose"], {})
      expect([o.json, o.verbose]).toEqual([true, true])
      const none = yield* parseShared([], {})
      expect([none.json, none.verbose]).toEqual([false, false])
    })
  )
})

describe("shared options typed after the subcommand move to the root", () => {
  it("keeps every position users type today", () => {
    expect(hoistSharedOptions(["runs", "show", "--workspace", "W", "ID", "--json"])).toEqual([
      "--workspace",
      "W",
      "--json",
      "runs",
      "show",
      "ID"
    ])
    expect(hoistSharedOptions(["run", "--config", "F", "--workspace=W", "--verbose"])).toEqual([
      "--workspace=W",
      "--verbose",
      "run",
      "--config",
      "F"
    ])
    expect(hoistSharedOptions(["registry", "verify"])).toEqual(["registry", "verify"])
  })
  it("leaves everything after -- alone", () => {
    expect(hoistSharedOptions(["runs", "show", "--", "--json"])).toEqual(["runs", "show", "--", "--json"])
  })
})

describe("other environment through Config", () => {
  it.effect("DRIFTGATE_STORE_READONLY: 1/true on, 0/empty/unset off, anything else a config error naming it", () =>
    Effect.gen(function* () {
      const read = (env: Record<string, string>) => Effect.exit(withEnv(env)(storeReadOnlyConfig))
      expect(yield* read({ DRIFTGATE_STORE_READONLY: "1" })).toEqual(Exit.succeed(true))
      expect(yield* read({ DRIFTGATE_STORE_READONLY: "true" })).toEqual(Exit.succeed(true))
      expect(yield* read({ DRIFTGATE_STORE_READONLY: "0" })).toEqual(Exit.succeed(false))
      expect(yield* read({ DRIFTGATE_STORE_READONLY: "" })).toEqual(Exit.succeed(false))
      expect(yield* read({})).toEqual(Exit.succeed(false))
      const bad = yield* read({ DRIFTGATE_STORE_READONLY: "maybe" })
      expect(Exit.isFailure(bad)).toBe(true)
      expect(String(Exit.isFailure(bad) ? bad.cause : "")).toContain("DRIFTGATE_STORE_READONLY")
    })
  )
  it.effect("DRIFTGATE_CODE_REVISION is the code_revision anchor when set", () =>
    Effect.gen(function* () {
      expect(yield* withEnv({ DRIFTGATE_CODE_REVISION: "abc123" })(codeRevision)).toBe("abc123")
    })
  )
  it.effect("the actor is user:$USER, then $USERNAME, then operator", () =>
    Effect.gen(function* () {
      expect(yield* withEnv({ USER: "ada", USERNAME: "x" })(actor)).toBe("user:ada")
      expect(yield* withEnv({ USERNAME: "grace" })(actor)).toBe("user:grace")
      expect(yield* withEnv({ USER: "" })(actor)).toBe("user:operator")
    })
  )
})

describe("the store: --store, then DRIFTGATE_STORE_URL (through Config), then the config's store:", () => {
  const store = (args: ReadonlyArray<string>, env: Record<string, string>) =>
    Effect.map(parseShared(args, env), (o) => o.store)
  it.effect("the flag wins; the environment fills in a missing flag; an empty variable counts as unset", () =>
    Effect.gen(function* () {
      expect(
        yield* store(["--store", "postgres://a@h:1/flag"], { DRIFTGATE_STORE_URL: "postgres://a@h:1/env" })
      ).toEqual(Option.some("postgres://a@h:1/flag"))
      expect(yield* store([], { DRIFTGATE_STORE_URL: "postgres://a@h:1/env" })).toEqual(
        Option.some("postgres://a@h:1/env")
      )
      expect(yield* store([], { DRIFTGATE_STORE_URL: "" })).toEqual(Option.none())
    })
  )
  it("--store typed after the subcommand moves to the root like --workspace", () => {
    expect(hoistSharedOptions(["runs", "show", "--store", "postgres://x/db", "ID"])).toEqual([
      "--store",
      "postgres://x/db",
      "runs",
      "show",
      "ID"
    ])
  })
})
