/**
 * A second process on the same store.db (or PostgreSQL URL), for the concurrency and crash tests.
 *   promote <db> <model> <count>     print "ready", wait for "go" on stdin, promote <count> times,
 *                                    print "done <versions as JSON>"
 *   crash-loop <db> <model> <seed> [stall]
 *                                    finish any pending rollback, print "ready", then forever:
 *                                    promote, begin a rollback to the version before, wait a few
 *                                    ms (the window a crash can hit), complete or abandon it;
 *                                    with "stall", hang after the first "began" (to be killed there)
 * Progress lines go to stdout synchronously, so a SIGKILL never loses a line already written.
 */
import { Effect } from "effect"
import { writeSync } from "node:fs"
import { createInterface } from "node:readline"
import { rng } from "../../src/domain/random.js"
import { Registry } from "../../src/services/Registry.js"
import { promoteInput, storeRegistry } from "./registry-crash-support.js"

const say = (line: string) => void writeSync(1, line + "\n")

const [mode, path, model, arg, flag] = process.argv.slice(2)
if (mode === undefined || path === undefined || model === undefined) {
  console.error("usage: registry-crash-child.ts promote|crash-loop <db> <model> <count|seed>")
  process.exit(64)
}

const go = Effect.async<void>((resume) => {
  const rl = createInterface({ input: process.stdin })
  rl.on("line", (l) => {
    if (l.trim() === "go") {
      rl.close()
      resume(Effect.void)
    }
  })
})

const promoteMany = (count: number) =>
  Effect.gen(function* () {
    const registry = yield* Registry
    yield* registry.listModels() // the store is open and migrated before we report ready
    say("ready")
    yield* go
    const versions: number[] = []
    for (let i = 0; i < count; i++) {
      const v = yield* registry.promote(promoteInput(model, { actor: `child-${process.pid}` }))
      versions.push(v.version)
    }
    say(`done ${JSON.stringify(versions)}`)
  })

const crashLoop = (seed: number, stall: boolean) =>
  Effect.gen(function* () {
    const registry = yield* Registry
    const random = rng(seed)
    for (const intent of yield* registry.pendingRollbacks()) yield* registry.completeRollback(intent.id)
    say("ready")
    for (;;) {
      const v = yield* registry.promote(promoteInput(model, { actor: "crash-child" }))
      say(`promoted ${v.version}`)
      if (v.version < 2) continue
      const intent = yield* registry.beginRollback({
        name: model,
        toVersion: v.version - 1,
        reason: "crash drill",
        actor: "crash-child"
      })
      say(`began ${intent.id}`)
      if (stall) yield* Effect.never
      yield* Effect.sleep(Math.floor(random.next() * 8))
      if (random.next() < 0.2) {
        yield* registry.abandonRollback(intent.id, "changed my mind", "crash-child")
        say(`abandoned ${intent.id}`)
      } else {
        yield* registry.completeRollback(intent.id)
        say(`completed ${intent.id}`)
      }
    }
  })

const program = mode === "promote" ? promoteMany(Number(arg ?? "1")) : crashLoop(Number(arg ?? "1"), flag === "stall")

Effect.runPromise(program.pipe(Effect.provide(storeRegistry(path)))).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  }
)
