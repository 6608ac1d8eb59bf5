/**
 * Following the registry (Registry.changes): the LISTEN follower falls back to polling when its
 * connection is lost and goes back to listening once it reconnects; the polling follower of the
 * embedded stores delivers changes; and on a real PostgreSQL server a promotion is delivered by
 * notification, and again after the listening connection is killed server-side.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { EMPTY_HEAD, type RegistryFollowEvent, type RegistryHead } from "../../src/domain/registry.js"
import { type ChannelListener, listenChanges } from "../../src/layers/registry/follow.js"
import { makeRegistryMemory } from "../../src/layers/registry/RegistryMemory.js"
import { Registry } from "../../src/services/Registry.js"
import { cleanUpDatabases, describePg, freshDatabase, withClient } from "./pg-support.js"
import { postgresRegistry, promoteInput } from "./registry-crash-support.js"

cleanUpDatabases()

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits (up to `ms`) until `f` holds; fails naming `what` otherwise. */
const until = async (what: string, f: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Runs `stream` in the background, collecting its events; interrupt the fiber to stop it. */
const collect = (stream: Stream.Stream<RegistryFollowEvent>) =>
  Effect.gen(function* () {
    const events: RegistryFollowEvent[] = []
    const fiber = yield* Effect.fork(Stream.runForEach(stream, (e) => Effect.sync(() => void events.push(e))))
    return { events, fiber }
  })

const heads = (events: ReadonlyArray<RegistryFollowEvent>) =>
  events.flatMap((e) => (e._tag === "Head" ? [{ seq: e.head.seq, via: e.via }] : []))
const modes = (events: ReadonlyArray<RegistryFollowEvent>) => events.flatMap((e) => (e._tag === "Mode" ? [e.mode] : []))

/** A scripted channel: the test notifies, drops the connection, and decides whether connecting works. */
const fakeChannel = () => {
  let notify: (() => void) | undefined
  let lost: ((reason: string) => void) | undefined
  const channel = {
    up: true,
    connects: 0,
    closes: 0,
    notify: () => notify?.(),
    drop: () => lost?.("terminated by the test"),
    connect: async (): Promise<ChannelListener> => {
      channel.connects++
      if (!channel.up) throw new Error("connection refused")
      return {
        onNotify: (f) => void (notify = f),
        onLost: (f) => void (lost = f),
        close: async () => void channel.closes++
      }
    }
  }
  return channel
}

describe("listenChanges (the PostgreSQL follower's logic)", () => {
  it.live("a lost connection falls back to polling, which still delivers; reconnecting stops the polling", () =>
    Effect.gen(function* () {
      let head: RegistryHead = EMPTY_HEAD
      const channel = fakeChannel()
      const { events, fiber } = yield* collect(
        listenChanges({
          readHead: async () => head,
          connect: channel.connect,
          pollMs: 30,
          backoff: { initialMs: 40, maxMs: 80 }
        })
      )
      yield* Effect.promise(async () => {
        await until("the first head", () => heads(events).length === 1)
        expect(modes(events)).toEqual(["listen"])
        expect(heads(events)).toEqual([{ seq: 0, via: "listen" }])

        // Listening: a notification delivers the new head.
        head = { seq: 1, hash: "a".repeat(64) }
        channel.notify()
        await until("seq 1", () => heads(events).length === 2)
        expect(heads(events)[1]).toEqual({ seq: 1, via: "listen" })

        // The connection drops and the server refuses new ones: polling delivers seq 2 unnotified.
        channel.up = false
        channel.drop()
        await until("polling", () => modes(events).length === 2)
        expect(modes(events)).toEqual(["listen", "poll"])
        head = { seq: 2, hash: "b".repeat(64) }
        await until("seq 2 by polling", () => heads(events).length === 3)
        expect(heads(events)[2]).toEqual({ seq: 2, via: "poll" })
        // It kept trying to reconnect meanwhile (with backoff).
        await until("reconnection attempts", () => channel.connects >= 3)

        // The server is back: listening again, and polling stops (an unnotified change is not read).
        channel.up = true
        await until("listening again", () => modes(events).length === 3)
        expect(modes(events)).toEqual(["listen", "poll", "listen"])
        const before = heads(events).length
        head = { seq: 3, hash: "c".repeat(64) }
        await sleep(200)
        expect(heads(events).length).toBe(before)
        channel.notify()
        await until("seq 3 by notification", () => heads(events).length === before + 1)
        expect(heads(events).at(-1)).toEqual({ seq: 3, via: "listen" })
      })
      yield* Fiber.interrupt(fiber)
      expect(channel.closes).toBeGreaterThanOrEqual(2) // the lost connection and the last one
    })
  )

  it.live("a head that did not move is not emitted again", () =>
    Effect.gen(function* () {
      const channel = fakeChannel()
      const head: RegistryHead = { seq: 4, hash: "d".repeat(64) }
      const { events, fiber } = yield* collect(
        listenChanges({ readHead: async () => head, connect: channel.connect, pollMs: 30 })
      )
      yield* Effect.promise(async () => {
        await until("the first head", () => heads(events).length === 1)
        channel.notify()
        channel.notify()
        await sleep(100)
      })
      expect(heads(events)).toEqual([{ seq: 4, via: "listen" }])
      yield* Fiber.interrupt(fiber)
    })
  )
})

describe("Registry.changes on an embedded store (polling)", () => {
  it.live("a promotion made after subscribing is delivered by polling", () =>
    Effect.gen(function* () {
      const registry = yield* makeRegistryMemory
      const { events, fiber } = yield* collect(registry.changes({ pollMs: 20 }))
      yield* Effect.promise(() => until("the first head", () => heads(events).length === 1))
      expect(heads(events)).toEqual([{ seq: 0, via: "poll" }])
      yield* registry.promote(promoteInput("iris"))
      const expected = yield* registry.head()
      yield* Effect.promise(() => until("the promotion", () => heads(events).length === 2))
      expect(heads(events)[1]).toEqual({ seq: expected.seq, via: "poll" })
      expect(expected.seq).toBeGreaterThan(0)
      yield* Fiber.interrupt(fiber)
    })
  )
})

describePg("Registry.changes on PostgreSQL", () => {
  it.live("a promotion is delivered by LISTEN; after the listening backend is killed, again", () =>
    Effect.gen(function* () {
      const url = yield* Effect.promise(() => freshDatabase())
      yield* Effect.gen(function* () {
        const registry = yield* Registry
        // A long poll interval: a head delivered within it came by notification.
        const { events, fiber } = yield* collect(registry.changes({ pollMs: 60_000 }))
        yield* Effect.promise(() =>
          until("listening", () => modes(events).includes("listen") && heads(events).length === 1)
        )
        yield* registry.promote(promoteInput("iris"))
        const first = yield* registry.head()
        yield* Effect.promise(() => until("the promotion", () => heads(events).some((h) => h.seq === first.seq)))
        expect(heads(events).at(-1)).toEqual({ seq: first.seq, via: "listen" })

        // Kill the listening connection on the server; the follower reconnects and reads the head.
        const killed = yield* Effect.promise(() =>
          withClient(
            url,
            async (c) =>
              (
                await c.query<{ ok: boolean }>(
                  "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'driftgate-follow' AND datname = current_database()"
                )
              ).rows.length
          )
        )
        expect(killed).toBe(1)
        yield* Effect.promise(() =>
          until("polling, then listening again", () => modes(events).join(",").endsWith("listen,poll,listen"))
        )
        yield* registry.promote(promoteInput("iris"))
        const second = yield* registry.head()
        yield* Effect.promise(() =>
          until("the second promotion", () => heads(events).some((h) => h.seq === second.seq))
        )
        expect(heads(events).at(-1)).toEqual({ seq: second.seq, via: "listen" })
        yield* Fiber.interrupt(fiber)
      }).pipe(Effect.provide(postgresRegistry(url)))
    })
  )
})
